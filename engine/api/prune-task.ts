import { runPruneJob } from '../compress/prune';
import { CONTROL_CANCEL, CONTROL_PAUSE, type WorkerMessage } from './jobs';
import { summarizeReport } from './prune-summary';
import type { PruneTask } from './tasks';
import { trainEventForwarder } from './train-events';
import { JobCancelled } from './worker-control';

/**
 * Worker side of a prune job (stage 1): engine/compress's job with its events mapped onto
 * EngineEvents like distillation's. runPruneJob has no pause hook, so a pause holds the worker
 * inside the progress callback (between steps) until resumed or cancelled.
 */
export async function runPrune(task: PruneTask, control: Int32Array, post: (m: WorkerMessage) => void): Promise<unknown> {
  const abort = new AbortController();
  const cancelled = () => Atomics.load(control, 0) === CONTROL_CANCEL;
  const watch = setInterval(() => {
    if (cancelled()) abort.abort(new JobCancelled());
  }, 100);
  const holdWhilePaused = () => {
    while (Atomics.load(control, 0) === CONTROL_PAUSE) Atomics.wait(control, 0, CONTROL_PAUSE);
    if (cancelled()) abort.abort(new JobCancelled());
  };
  try {
    const result = await runPruneJob(
      { outDir: task.outDir, config: task.config },
      {
        signal: abort.signal,
        onEvent: trainEventForwarder(task.config.steps, post, holdWhilePaused),
      },
    );
    if (result.train.aborted || abort.signal.aborted) throw new JobCancelled();
    if (!result.report || !result.reportPath) throw new Error('pruning finished without writing its importance report');
    post({ type: 'event', event: { type: 'progress', done: result.train.step, total: task.config.steps, detail: 'report written' } });
    return summarizeReport(result.report, result.reportPath);
  } finally {
    clearInterval(watch);
  }
}
