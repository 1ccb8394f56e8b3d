import { runTrainJob } from '../jobs/train-job';
import { CONTROL_CANCEL, CONTROL_PAUSE, type WorkerMessage } from './jobs';
import type { DistillTask } from './tasks';
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
  let last = { step: 0, totalSteps: task.config.steps, loss: Number.NaN, lr: 0, stepsPerSec: 0, etaSec: Number.NaN };
  try {
    const result = await runTrainJob(
      { outDir: task.outDir, config: task.config },
      {
        signal: abort.signal,
        isPaused: () => Atomics.load(control, 0) === CONTROL_PAUSE,
        onEvent: (e) => {
          if (e.type === 'progress') {
            last = e;
            post({
              type: 'event',
              event: {
                type: 'train',
                step: e.step,
                steps: e.totalSteps,
                loss: e.loss,
                lr: e.lr,
                stepsPerSec: e.stepsPerSec,
                etaSec: e.etaSec,
              },
            });
          } else if (e.type === 'validation') {
            // One point on the PSNR curve per validation, at the step it scored.
            post({
              type: 'event',
              event: {
                type: 'train',
                step: e.step,
                steps: last.totalSteps,
                loss: last.loss,
                lr: last.lr,
                stepsPerSec: last.stepsPerSec,
                etaSec: last.etaSec,
                valPsnr: e.psnr,
              },
            });
          } else if (e.type === 'status') {
            // Phases (loading data, teacher outputs, validating, exporting) travel as progress details.
            post({
              type: 'event',
              event: { type: 'progress', done: last.step, total: last.totalSteps, detail: e.detail ? `${e.phase}: ${e.detail}` : e.phase },
            });
          }
        },
      },
    );
    if (result.aborted || abort.signal.aborted) throw new JobCancelled();
    if (!result.exported) throw new Error('training finished without exporting a model');
    return { onnx: result.exported.onnx, card: result.exported.card, steps: result.step };
  } finally {
    clearInterval(watch);
  }
}
