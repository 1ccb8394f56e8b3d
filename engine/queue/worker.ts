import { hostname } from 'node:os';
import { WaitingError, Worker, type Job } from 'bullmq';
import { redisConnection, TRAIN_QUEUE, UPSCALE_QUEUE } from './connection';
import { runQueuedTraining, type TrainQueueData, type TrainQueueResult } from './train-job';
import { runUpscaleJob, type UpscaleJobData, type UpscaleJobResult, type WorkerContext } from './upscale-job';

/**
 * A `minisr worker`: takes upscale and training jobs from the queue and runs them with the
 * engine. BullMQ holds a lock per running job; a worker that dies (kill -9, lost machine) stops
 * renewing it, and after the stalled check the job goes back to the queue for another worker.
 */

export interface WorkerOptions extends Omit<WorkerContext, 'name'> {
  url: string;
  concurrency?: number;
  /** How often stalled jobs are looked for, and how long a job lock lasts unrenewed (ms). */
  stalledInterval?: number;
  lockDuration?: number;
  name?: string;
  log?: (line: string) => void;
}

export function startUpscaleWorker(opts: WorkerOptions): Worker<UpscaleJobData, UpscaleJobResult> {
  const ctx: WorkerContext = {
    ep: opts.ep,
    ...(opts.threads ? { threads: opts.threads } : {}),
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    name: opts.name ?? `${hostname()}:${process.pid}`,
  };
  const log = opts.log ?? (() => {});
  const processor = async (job: Job<UpscaleJobData, UpscaleJobResult>, _token?: string, signal?: AbortSignal) => {
    let last = 0;
    return runUpscaleJob(
      {
        data: job.data,
        rerun: job.attemptsStarted > 1 || job.attemptsMade > 0,
        ...(signal ? { signal } : {}),
        onProgress: (p) => {
          const now = performance.now();
          if (now - last < 250 && p.tilesDone !== p.tilesTotal) return;
          last = now;
          void job.updateProgress({ tilesDone: p.tilesDone, tilesTotal: p.tilesTotal, pass: p.pass, passes: p.passes }).catch(() => {});
        },
      },
      ctx,
    );
  };
  const worker = new Worker<UpscaleJobData, UpscaleJobResult>(UPSCALE_QUEUE, processor, {
    connection: redisConnection(opts.url),
    concurrency: opts.concurrency ?? 1,
    ...(opts.stalledInterval ? { stalledInterval: opts.stalledInterval } : {}),
    ...(opts.lockDuration ? { lockDuration: opts.lockDuration } : {}),
    name: ctx.name,
  });
  worker.on('active', (job) => log(`start   ${job.data.input} (attempt ${job.attemptsStarted})`));
  worker.on('completed', (job, r) =>
    log(`done    ${job.data.input} -> ${r.output}${r.status === 'skipped' ? ` (skipped: ${r.reason})` : r.note ? ` (${r.note})` : ''}`),
  );
  worker.on('failed', (job, err) => log(`failed  ${job?.data.input ?? '?'}: ${err.message}`));
  worker.on('error', (err) => log(`queue: ${err.message}`));
  return worker;
}

export interface TrainWorker {
  worker: Worker<TrainQueueData, TrainQueueResult>;
  /** Stops the running runs at their next step (each saves a checkpoint and goes back to the queue), then closes. */
  close(): Promise<void>;
}

/** One training run at a time: a run uses every core it is given. */
export function startTrainWorker(opts: WorkerOptions): TrainWorker {
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const log = opts.log ?? (() => {});
  const running = new Set<AbortController>();
  const processor = async (job: Job<TrainQueueData, TrainQueueResult>, token?: string) => {
    const ac = new AbortController();
    running.add(ac);
    let last = 0;
    try {
      const r = await runQueuedTraining(job.data, {
        signal: ac.signal,
        worker: name,
        onEvent: (e) => {
          if (e.type === 'checkpoint') log(`checkpoint ${e.path}`);
          if (e.type !== 'progress' || (performance.now() - last < 500 && e.step !== e.totalSteps)) return;
          last = performance.now();
          void job.updateProgress({ step: e.step, totalSteps: e.totalSteps, loss: e.loss }).catch(() => {});
        },
      });
      if (r.aborted) {
        // This worker is stopping: the checkpoint is saved, another worker continues the run.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return r;
    } finally {
      running.delete(ac);
    }
  };
  const worker = new Worker<TrainQueueData, TrainQueueResult>(TRAIN_QUEUE, processor, {
    connection: redisConnection(opts.url),
    concurrency: 1,
    ...(opts.stalledInterval ? { stalledInterval: opts.stalledInterval } : {}),
    ...(opts.lockDuration ? { lockDuration: opts.lockDuration } : {}),
    maxStalledCount: 5, // a long run may outlive several workers
    name,
  });
  worker.on('active', (job) => log(`train   ${job.data.outDir} (attempt ${job.attemptsStarted})`));
  worker.on('completed', (job, r) => log(`trained ${job.data.outDir}: ${r.step} steps`));
  worker.on('failed', (job, err) => log(`failed  ${job?.data.outDir ?? '?'}: ${err.message}`));
  worker.on('error', (err) => log(`queue: ${err.message}`));
  return {
    worker,
    close: async () => {
      for (const ac of running) ac.abort();
      await worker.close();
    },
  };
}
