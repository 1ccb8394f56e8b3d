import { runTrainJob } from '../train/job';
import type { WorkerMessage } from './jobs';
import type { DistillTask } from './tasks';
import { trainEventForwarder } from './train-events';
import { JobCancelled, trainControl } from './worker-control';

/**
 * Worker side of a distillation job: the training job (engine/train/job.ts) with the shared
 * control flag mapped onto its pause callback and abort signal, and its events onto EngineEvents.
 */
export async function runDistill(task: DistillTask, control: Int32Array, post: (m: WorkerMessage) => void): Promise<unknown> {
  const { stop, ...hooks } = trainControl(control);
  try {
    const result = await runTrainJob(
      { outDir: task.outDir, config: task.config },
      { ...hooks, onEvent: trainEventForwarder(task.config.steps, post) },
    );
    if (result.aborted || hooks.signal.aborted) throw new JobCancelled();
    if (!result.exported) throw new Error('training finished without exporting a model');
    return { onnx: result.exported.onnx, card: result.exported.card, steps: result.step };
  } finally {
    stop();
  }
}
