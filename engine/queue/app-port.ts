import { Redis } from 'ioredis';
import type { QueuedBatch, QueuePort } from '../api/queue-port';
import type { QueueBatchStatus, QueueCheck, QueueFileStatus } from '../api/types';
import { resolveModel } from '../upscale/model';
import { enqueuePlanned, jobOutcome, loadBatch, openQueue, type BatchRecord, type JobOutcome } from './batch';
import { redisConnection } from './connection';

/**
 * The app's queue (engine/api/queue-port.ts) over BullMQ: Settings' "Test connection", and the
 * Batch view's "Send to queue" and per-file state. Each call opens its connection and closes it,
 * so a Redis that is down costs nothing between calls.
 */

/** How long "Test connection" and each call wait for Redis to answer before saying it is unreachable. */
const CONNECT_MS = 3000;

async function withQueue<T>(url: string, f: (q: ReturnType<typeof openQueue>) => Promise<T>): Promise<T> {
  const queue = openQueue(url);
  queue.on('error', () => {}); // the call's own failure says what went wrong
  try {
    await Promise.race([
      queue.waitUntilReady(),
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error(`the queue at ${url} did not answer within ${CONNECT_MS / 1000} s`)), CONNECT_MS).unref(),
      ),
    ]);
    return await f(queue);
  } finally {
    await queue.close().catch(() => {});
  }
}

function fileStatus(input: string, o: JobOutcome): QueueFileStatus {
  if (o.state === 'pending') return { input, state: o.detail === 'active' ? 'active' : 'waiting' };
  if (o.state === 'failed') return { input, state: 'failed', reason: o.reason };
  const r = o.result;
  return r.status === 'skipped'
    ? { input, state: 'skipped', output: r.output, reason: r.reason, worker: r.worker }
    : { input, state: 'done', output: r.output, worker: r.worker };
}

/**
 * Jobs seen done, by job id: done is final, so the Batch view's polls ask Redis only about the
 * rest (a failed job may be retried, a waiting one moves on). Keyed with the batch record's
 * creation, so a batch cleaned and sent again is asked about afresh. Bounded: emptied when full.
 */
const doneJobs = new Map<string, QueueFileStatus>();
const MAX_DONE = 100_000;

async function statusOf(queue: ReturnType<typeof openQueue>, record: BatchRecord): Promise<QueueBatchStatus> {
  const look = async (j: BatchRecord['jobs'][number]): Promise<QueueFileStatus> => {
    const key = `${record.created}:${j.id}`;
    const known = doneJobs.get(key);
    if (known) return known;
    const f = fileStatus(j.input, await jobOutcome(queue, j.id));
    if (f.state === 'done' || f.state === 'skipped') {
      if (doneJobs.size >= MAX_DONE) doneJobs.clear();
      doneJobs.set(key, f);
    }
    return f;
  };
  const jobs: QueueFileStatus[] = [];
  for (let i = 0; i < record.jobs.length; i += 64) jobs.push(...(await Promise.all(record.jobs.slice(i, i + 64).map(look))));
  const files = [...record.refused.map((r): QueueFileStatus => ({ input: r.input, state: 'failed', reason: r.reason })), ...jobs];
  const count = (s: QueueFileStatus['state']) => files.filter((f) => f.state === s).length;
  const summary = { done: count('done'), failed: count('failed'), skipped: count('skipped'), pending: count('waiting') + count('active') };
  return {
    id: record.id,
    title: `${files.length} images ${record.scaleLabel} with ${record.model} (queue)`,
    files,
    summary,
    settled: summary.pending === 0,
  };
}

export const bullmqQueuePort: QueuePort = {
  async check(url: string): Promise<QueueCheck> {
    const redis = new Redis({ ...redisConnection(url), lazyConnect: true, connectTimeout: CONNECT_MS, retryStrategy: () => null });
    let cause: Error | undefined; // the socket's error says more than the connect() rejection ("Connection is closed")
    redis.on('error', (e: Error) => (cause ??= e));
    try {
      await redis.connect();
      const pong = await redis.ping();
      const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
      return { reachable: pong === 'PONG', detail: `Redis ${version ?? '(version unknown)'} answered at ${url}` };
    } catch (e) {
      return { reachable: false, detail: `no answer from ${url}: ${(cause ?? (e as Error)).message}` };
    } finally {
      redis.disconnect();
    }
  },

  async send(url: string, batch: QueuedBatch): Promise<QueueBatchStatus> {
    const model = await resolveModel({ model: batch.modelPath });
    return withQueue(url, async (queue) => {
      const record = await enqueuePlanned(
        queue,
        model,
        batch.files.map((f) => ({ input: f.input, output: f.output })),
        {
          model: { model: batch.modelPath },
          scale: batch.scale,
          format: batch.format,
          quality: batch.quality,
          tile: batch.tile,
          keepMetadata: batch.keepMetadata,
          skipExisting: batch.skipExisting,
        },
      );
      return statusOf(queue, record);
    });
  },

  status(url: string, id: string): Promise<QueueBatchStatus> {
    return withQueue(url, async (queue) => statusOf(queue, await loadBatch(queue, id)));
  },
};
