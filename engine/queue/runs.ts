import { Queue, QueueEvents } from 'bullmq';
import { redisConnection, TRAIN_QUEUE } from './connection';
import { queuedTrainData, trainJobId, type TrainQueueData, type TrainQueueResult } from './train-job';

/** The producer side of queued training runs: enqueue one run, follow it to its end. */

export type RunOutcome = { state: 'done'; result: TrainQueueResult } | { state: 'failed'; reason: string };

/** Enqueues a run (once per run folder); returns its job id. `kind: 'prune'` makes it a `minisr prune` run. */
export async function enqueueTraining(url: string, outDir: string, rawConfig: unknown, kind?: 'prune'): Promise<string> {
  const data = await queuedTrainData(outDir, rawConfig, kind);
  const queue = new Queue<TrainQueueData, TrainQueueResult>(TRAIN_QUEUE, { connection: redisConnection(url) });
  try {
    const id = trainJobId(data.outDir);
    // Failures other than bad configs (storage, a worker's provider) are retried; the run resumes from its checkpoint.
    await queue.add('train', data, {
      jobId: id,
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: false,
      removeOnFail: false,
    });
    return id;
  } finally {
    await queue.close();
  }
}

/** Waits for a run's job to settle, reporting its progress; survives Redis restarts (events plus a slow poll). */
export async function followTraining(
  url: string,
  id: string,
  onProgress: (p: { step: number; totalSteps: number; loss: number }) => void = () => {},
): Promise<RunOutcome> {
  const queue = new Queue<TrainQueueData, TrainQueueResult>(TRAIN_QUEUE, { connection: redisConnection(url) });
  const events = new QueueEvents(TRAIN_QUEUE, { connection: redisConnection(url) });
  let wake: () => void = () => {};
  events.on('progress', ({ jobId, data }) => jobId === id && onProgress(data as { step: number; totalSteps: number; loss: number }));
  events.on('completed', ({ jobId }) => jobId === id && wake());
  events.on('failed', ({ jobId }) => jobId === id && wake());
  events.on('error', () => {});
  try {
    for (;;) {
      const state = await queue.getJobState(id);
      if (state === 'unknown') return { state: 'failed', reason: 'the run is no longer in the queue' };
      if (state === 'completed' || state === 'failed') {
        const job = (await queue.getJob(id))!;
        return state === 'completed' ? { state: 'done', result: job.returnvalue } : { state: 'failed', reason: job.failedReason };
      }
      await new Promise<void>((res) => {
        wake = res;
        setTimeout(res, 2000).unref();
      });
    }
  } finally {
    await events.close().catch(() => {});
    await queue.close();
  }
}
