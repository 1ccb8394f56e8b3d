import { parentPort, workerData } from 'node:worker_threads';
import { makeBatch, type CropSpec, type TrainImage } from './crops';

/** Worker side of BatchSource: makes the batches it is asked for, step by step. */
const { images, spec } = workerData as { images: TrainImage[]; spec: CropSpec };
parentPort!.on('message', (step: number) => {
  const b = makeBatch(images, spec, step);
  const transfer = [b.lr.buffer, b.hr.buffer, ...(b.teacher ? [b.teacher.buffer] : [])] as ArrayBuffer[];
  parentPort!.postMessage(b, transfer);
});
