import { runPruneJob } from '../compress/prune';
import type { WorkerMessage } from './jobs';
import { summarizeReport } from './prune-summary';
import type { PruneTask } from './tasks';
import { trainEventForwarder } from './train-events';
import { JobCancelled, trainControl } from './worker-control';

/**
 * Worker side of a prune job (stage 1): engine/compress's job — the training job with OBProx-SG —
 * paused, cancelled and reported exactly as a distillation is.
 */
export async function runPrune(task: PruneTask, control: Int32Array, post: (m: WorkerMessage) => void): Promise<unknown> {
  const { stop, ...hooks } = trainControl(control);
  try {
    const result = await runPruneJob(
      { outDir: task.outDir, config: task.config },
      { ...hooks, onEvent: trainEventForwarder(task.config.steps, post) },
    );
    if (result.train.aborted || hooks.signal.aborted) throw new JobCancelled();
    if (!result.report || !result.reportPath) throw new Error('pruning finished without writing its importance report');
    post({ type: 'event', event: { type: 'progress', done: result.train.step, total: task.config.steps, detail: 'report written' } });
    return summarizeReport(result.report, result.reportPath);
  } finally {
    stop();
  }
}
