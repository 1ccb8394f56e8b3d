import { runTrainJob } from '../jobs/train-job';
import { CONTROL_CANCEL, CONTROL_PAUSE, type WorkerMessage } from './jobs';
import type { DistillTask } from './tasks';
import { trainEventForwarder } from './train-events';
import { JobCancelled } from './worker-control';

/**
 * Worker side of a distillation job: the training engine's job (engine/jobs/train-job.ts) with
 * the shared control flag mapped onto its pause callback and abort signal, and its events onto
 * EngineEvents. The trainer awaits between steps, so pause is polled here, never slept on.
 */
export async function runDistill(task: DistillTask, control: Int32Array, post: (m: WorkerMessage) => void): Promise<unknown> {
  const abort = new AbortController();
  const watch = setInterval(() => {
    if (Atomics.load(control, 0) === CONTROL_CANCEL) abort.abort(new JobCancelled());
  }, 100);
  try {
    const result = await runTrainJob(
      { outDir: task.outDir, config: task.config },
      {
        signal: abort.signal,
        isPaused: () => Atomics.load(control, 0) === CONTROL_PAUSE,
        onEvent: trainEventForwarder(task.config.steps, post),
      },
    );
    if (result.aborted || abort.signal.aborted) throw new JobCancelled();
    if (!result.exported) throw new Error('training finished without exporting a model');
    return { onnx: result.exported.onnx, card: result.exported.card, steps: result.step };
  } finally {
    clearInterval(watch);
  }
}
