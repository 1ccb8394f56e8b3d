import type { ChildMessage } from '../../engine/runtime/gpu-protocol';
import { lastWords, type ChildLink, type GpuSpawner } from '../../engine/runtime/gpu-process';
import type { UtilityProcessModuleLike } from './electron-api';

/**
 * The app's GPU process: an Electron utility process running the bundled `gpu-child.mjs` (a
 * plain `fork` would start a second app: RunAsNode is fused off). Started from the main thread
 * for the job workers through `engine/runtime/gpu-relay.ts`.
 */
export function utilitySpawner(utilityProcess: UtilityProcessModuleLike, entry: string): GpuSpawner {
  return () => {
    const child = utilityProcess.fork(entry, [], { serviceName: 'MiniSR GPU', stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    child.stderr?.on('data', (d: Buffer | string) => (tail = (tail + String(d)).slice(-4000)));
    const link: ChildLink = {
      send: (msg) => child.postMessage(msg),
      onMessage: (cb) => void child.on('message', (m) => cb(m as ChildMessage)),
      onExit: (cb) =>
        void child.on('exit', (code) => {
          const last = lastWords(tail);
          cb(`exit code ${code}${last ? `: ${last}` : ''}`);
        }),
      hold: () => {}, // the app's main process lives on anyway
      kill: () => void child.kill(),
    };
    return link;
  };
}
