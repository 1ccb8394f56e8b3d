import { parentChannel } from '../runtime/parent-channel';
import type { WorkerMessage } from './jobs';
import type { DistillTask, PruneTask } from './tasks';
import { isCancelled, JobCancelled } from './worker-control';

/**
 * A training job on a GPU provider, in a process of its own (JobManager starts it): a native
 * abort in the GPU driver (not an exception: it ends the whole process, worker threads included)
 * then ends this process and fails the job with that reason, instead of ending the host. Pause
 * and cancel arrive as messages into the control word worker threads share in memory.
 */

export type JobProcessInput =
  { readonly type: 'start'; readonly task: DistillTask | PruneTask } | { readonly type: 'control'; readonly value: number };

const control = new Int32Array(new SharedArrayBuffer(4));
// Node's fork (CLI, web mode) or an Electron utility process (the desktop app).
const parent = parentChannel<WorkerMessage, JobProcessInput>();
const post = (m: WorkerMessage) => parent.send(m);

async function run(task: DistillTask | PruneTask): Promise<unknown> {
  return task.kind === 'distill'
    ? (await import('./distill-task')).runDistill(task, control, post)
    : (await import('./prune-task')).runPrune(task, control, post);
}

parent.onMessage((m) => {
  if (m.type === 'control') return Atomics.store(control, 0, m.value);
  run(m.task).then(
    (result) => post({ type: 'done', result }),
    (e: Error) => post({ type: 'error', message: e.message, cancelled: e instanceof JobCancelled || isCancelled(control) }),
  );
});
