import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { BatchSummary } from '../../../engine/upscale/batch';
import type { UpscaleCliOptions } from './upscale';
import {
  batchStatus,
  cleanBatch,
  enqueueUpscaleBatch,
  followBatch,
  loadBatch,
  openQueue,
  retryFailed,
  type BatchRecord,
  type QueueBatchEvent,
} from '../../../engine/queue/batch';

/** `minisr upscale --queue` (the producer) and `minisr queue status|wait|retry-failed|clean`. */

/** The local upscale's options, where the workers (not this process) choose provider and threads. */
export type QueuedUpscaleOptions = Omit<UpscaleCliOptions, 'ep' | 'threads' | 'queue'> & { queue: string };

function reporter(json: boolean): (e: QueueBatchEvent) => void {
  return (e) => {
    if (json) {
      if (e.type === 'settled')
        console.log(JSON.stringify({ type: e.outcome.state, index: e.index, total: e.total, input: e.input, ...e.outcome }));
      return;
    }
    if (e.type !== 'settled') return;
    const tag = `[${e.index + 1}/${e.total}]`;
    const o = e.outcome;
    if (o.state === 'failed') console.log(`${tag} FAILED  ${o.reason}`);
    else if (o.state === 'done' && o.result.status === 'skipped')
      console.log(`${tag} skipped ${e.input} (${o.result.reason}: ${o.result.output})`);
    else if (o.state === 'done' && o.result.status === 'done')
      console.log(
        `${tag} done    ${o.result.output}  ${o.result.width}x${o.result.height} -> ${o.result.outWidth}x${o.result.outHeight}  on ${o.result.worker}`,
      );
  };
}

async function finish(summary: BatchSummary, opts: { json?: boolean; summary?: string }, print: (s: BatchSummary) => void): Promise<void> {
  if (opts.summary) await writeFile(opts.summary, `${JSON.stringify(summary, null, 2)}\n`);
  if (opts.json) console.log(JSON.stringify({ type: 'summary', ...summary }));
  else print(summary);
  if (summary.failed.length > 0) process.exitCode = 1;
}

async function follow(
  url: string,
  record: BatchRecord,
  opts: { json?: boolean; summary?: string },
  print: (s: BatchSummary) => void,
): Promise<void> {
  const queue = openQueue(url);
  try {
    await finish(await followBatch(url, queue, record, reporter(opts.json ?? false)), opts, print);
  } finally {
    await queue.close();
  }
}

export async function queuedUpscale(paths: string[], opts: QueuedUpscaleOptions, print: (s: BatchSummary) => void): Promise<void> {
  const queue = openQueue(opts.queue);
  let record: BatchRecord;
  try {
    record = await enqueueUpscaleBatch(queue, paths, {
      model: { ...(opts.model ? { model: opts.model } : {}), ...(opts.weights ? { weights: opts.weights } : {}) },
      scale: opts.scale,
      format: opts.format,
      ...(opts.quality ? { quality: opts.quality } : {}),
      tile: opts.tile === 'auto' ? 'auto' : Number(opts.tile),
      ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
      ...(opts.out ? { outDir: opts.out } : {}),
      recursive: opts.recursive ?? false,
      ...(opts.include ? { include: opts.include } : {}),
      template: opts.template,
      skipExisting: opts.skipExisting ?? false,
      keep16bit: opts['8bit'] !== true,
      keepMetadata: opts.metadata,
    });
  } finally {
    await queue.close();
  }
  if (opts.detach) {
    console.log(opts.json ? JSON.stringify({ type: 'batch', id: record.id, jobs: record.jobs.length }) : record.id);
    return;
  }
  if (!opts.json) console.log(`batch ${record.id}: ${record.jobs.length} images queued`);
  await follow(opts.queue, record, opts, print);
}

function printCounts(s: BatchSummary, pending: { input: string; state: string }[]): void {
  console.log(`${s.succeeded.length} succeeded, ${s.failed.length} failed, ${s.skipped.length} skipped, ${pending.length} pending`);
  for (const f of s.failed) console.log(`  failed: ${f.reason}`);
  for (const p of pending) console.log(`  ${p.state}: ${p.input}`);
}

export function queueCommand(print: (s: BatchSummary) => void): Command {
  const cmd = new Command('queue').description('manage a batch sent to the Redis queue (minisr upscale --queue ... --detach)');
  const withBatch = (
    name: string,
    description: string,
    action: (url: string, record: BatchRecord, o: { json?: boolean }) => Promise<void>,
  ) =>
    cmd
      .command(name)
      .description(description)
      .argument('<batch>', 'batch id')
      .requiredOption('--queue <redis-url>', 'the Redis the batch was sent to')
      .option('--json', 'JSON output')
      .action(async (id: string, o: { queue: string; json?: boolean }) => {
        const queue = openQueue(o.queue);
        let record: BatchRecord;
        try {
          record = await loadBatch(queue, id);
        } finally {
          await queue.close();
        }
        await action(o.queue, record, o);
      });
  const once = async <T>(url: string, f: (q: ReturnType<typeof openQueue>) => Promise<T>): Promise<T> => {
    const queue = openQueue(url);
    try {
      return await f(queue);
    } finally {
      await queue.close();
    }
  };
  withBatch('status', 'counts, failures with reasons, and what is still pending', async (url, record, o) => {
    const { summary, pending } = await once(url, (q) => batchStatus(q, record));
    if (o.json) console.log(JSON.stringify({ ...summary, pending }));
    else printCounts(summary, pending);
  });
  withBatch('wait', 'wait until every job of the batch is settled, then print the summary', (url, record, o) =>
    follow(url, record, o, print),
  );
  withBatch('retry-failed', 'put the failed jobs of the batch back in the queue', async (url, record) => {
    console.log(`${await once(url, (q) => retryFailed(q, record))} failed jobs queued again`);
  });
  withBatch('clean', 'remove the batch and its jobs from Redis (outputs stay)', async (url, record) => {
    const r = await once(url, (q) => cleanBatch(q, record));
    console.log(
      `${r.removed} jobs removed${r.running ? `, ${r.running} still running (the batch record is kept; clean again later)` : ''}`,
    );
  });
  return cmd;
}
