import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { forkLink, type ProcessLink } from '../runtime/gpu-process';
import type { JobProcessInput } from './job-process';
import type { WorkerMessage } from './jobs';
import type { DistillTask, PruneTask } from './tasks';

/** The link to a job's own process (`job-process.ts`). */
export type JobProcessLink = ProcessLink<JobProcessInput, WorkerMessage>;

const JOB_PROCESS_ENTRY = fileURLToPath(new URL('./job-process.mjs', import.meta.url));

/** Node's fork of the job process; none in Electron (RunAsNode is fused off there): the app passes utility processes. */
export function defaultJobProcess(): (() => JobProcessLink) | null {
  return process.versions.electron ? null : () => forkLink<JobProcessInput, WorkerMessage>(JOB_PROCESS_ENTRY);
}

/** Training on a GPU provider (or `auto`, which may pick one) is what a driver's native abort can end. */
export function isGpuTraining(task: unknown): task is DistillTask | PruneTask {
  const t = task as Partial<DistillTask | PruneTask>;
  return (t.kind === 'distill' || t.kind === 'prune') && (t.config?.ep ?? 'cpu') !== 'cpu';
}

/**
 * A job's process, seen as JobManager sees a worker thread: 'message', 'error' (it ended before
 * answering, with how: e.g. "killed by SIGABRT: terminate called ..."), 'exit', terminate().
 */
export class JobProcess extends EventEmitter {
  private terminated = false;

  constructor(
    private readonly link: JobProcessLink,
    task: DistillTask | PruneTask,
  ) {
    super();
    link.onMessage((m) => this.emit('message', m));
    link.onExit((how) => {
      if (!this.terminated && !/^exit code 0\b/.test(how)) this.emit('error', new Error(`the job's process ended (${how})`));
      this.emit('exit', this.terminated ? 1 : 0);
    });
    link.hold(true);
    link.send({ type: 'start', task });
  }

  /** Worker threads share the control word; a process is told each change. */
  control(value: number): void {
    this.link.send({ type: 'control', value });
  }

  async terminate(): Promise<number> {
    this.terminated = true;
    this.link.kill();
    this.link.hold(false);
    return 1;
  }
}
