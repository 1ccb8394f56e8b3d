import type { JobProcessInput } from '../../engine/api/job-process';
import type { JobProcessLink } from '../../engine/api/job-runner';
import type { WorkerMessage } from '../../engine/api/jobs';
import type { ChildMessage, ParentMessage } from '../../engine/runtime/gpu-protocol';
import { lastWords, type GpuSpawner, type ProcessLink } from '../../engine/runtime/gpu-process';
import type { UtilityProcessModuleLike } from './electron-api';

/**
 * The app's child processes are Electron utility processes (a plain `fork` would start a second
 * app: RunAsNode is fused off); their entries speak over `process.parentPort`
 * (`engine/runtime/parent-channel.ts`).
 */

/** A utility process running `entry`, seen as the engine sees a forked child; its stderr kept for the reason it ended. */
export function utilityLink<Out, In>(utilityProcess: UtilityProcessModuleLike, entry: string, serviceName: string): ProcessLink<Out, In> {
  const child = utilityProcess.fork(entry, [], { serviceName, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer | string) => (tail = (tail + String(d)).slice(-4000)));
  return {
    send: (msg) => child.postMessage(msg),
    onMessage: (cb) => void child.on('message', (m) => cb(m as In)),
    onExit: (cb) =>
      void child.on('exit', (code) => {
        const last = lastWords(tail);
        cb(`exit code ${code}${last ? `: ${last}` : ''}`);
      }),
    hold: () => {}, // the app's main process lives on anyway
    kill: () => void child.kill(),
  };
}

/** The GPU process on the bundled `gpu-child.mjs`, started from the main thread for the job workers (`engine/runtime/gpu-relay.ts`). */
export function utilitySpawner(utilityProcess: UtilityProcessModuleLike, entry: string): GpuSpawner {
  return () => utilityLink<ParentMessage, ChildMessage>(utilityProcess, entry, 'MiniSR GPU');
}

/** A training job on a GPU provider, in its own process on the bundled `job-process.mjs` (`engine/api/job-runner.ts`). */
export function utilityJobProcess(utilityProcess: UtilityProcessModuleLike, entry: string): () => JobProcessLink {
  return () => utilityLink<JobProcessInput, WorkerMessage>(utilityProcess, entry, 'MiniSR training');
}
