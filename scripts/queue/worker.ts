import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { redisConnection, UPSCALE_QUEUE } from './connection';
import { runUpscaleJob, type UpscaleJobData, type UpscaleJobResult, type WorkerContext } from './upscale-job';

/**
 * A `minisr worker`: takes upscale jobs from the queue and runs them with the engine. BullMQ
 * holds a lock per running job; a worker that dies (kill -9, lost machine) stops renewing it,
 * and after the stalled check the job goes back to the queue for another worker.
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
