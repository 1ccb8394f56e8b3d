import type { TrainJobEvent } from '../train/job';
import type { WorkerMessage } from './jobs';

/**
 * A training run's events (distillation or pruning) as EngineEvents: each step a `train` point,
 * each validation one more point carrying the PSNR at the step it scored, and the phases
 * (loading data, teacher outputs, validating, exporting) as progress details.
 */
export function trainEventForwarder(totalSteps: number, post: (m: WorkerMessage) => void): (e: TrainJobEvent) => void {
  let last = { step: 0, totalSteps, loss: Number.NaN, lr: 0, stepsPerSec: 0, etaSec: Number.NaN };
  const point = (step: number, valPsnr?: number) =>
    post({
      type: 'event',
      event: {
        type: 'train',
        step,
        steps: last.totalSteps,
        loss: last.loss,
        lr: last.lr,
        stepsPerSec: last.stepsPerSec,
        etaSec: last.etaSec,
        ...(valPsnr === undefined ? {} : { valPsnr }),
      },
    });
  return (e) => {
    if (e.type === 'progress') {
      last = e;
      point(e.step);
    } else if (e.type === 'validation') point(e.step, e.psnr);
    else if (e.type === 'status') {
      post({
        type: 'event',
        event: { type: 'progress', done: last.step, total: last.totalSteps, detail: e.detail ? `${e.phase}: ${e.detail}` : e.phase },
      });
    }
  };
}
