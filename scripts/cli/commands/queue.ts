import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { BatchSummary } from '../../../engine/upscale/batch';
import type { BatchRecord, QueueBatchEvent } from '../../../engine/queue/batch';
import { batchOptionsFrom } from './batch-options';
import type { UpscaleCliOptions } from './upscale';

/**
 * `minisr upscale --queue` (the producer) and `minisr queue status|wait|retry-failed|clean`.
 * BullMQ is loaded when one of them runs, not with every minisr command.
 */
const queueLib = () => import('../../../engine/queue/batch');

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
  const { followBatch, openQueue } = await queueLib();
  const queue = openQueue(url);
  try {
    await finish(await followBatch(url, queue, record, reporter(opts.json ?? false)), opts, print);
  } finally {
    await queue.close();
  }
}

export async function queuedUpscale(paths: string[], opts: QueuedUpscaleOptions, print: (s: BatchSummary) => void): Promise<void> {
  const { enqueueUpscaleBatch, openQueue } = await queueLib();
  const queue = openQueue(opts.queue);
  let record: BatchRecord;
  try {
    record = await enqueueUpscaleBatch(queue, paths, {
      model: { ...(opts.model ? { model: opts.model } : {}), ...(opts.weights ? { weights: opts.weights } : {}) },
      ...batchOptionsFrom(opts),
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
        const { loadBatch, openQueue } = await queueLib();
        const queue = openQueue(o.queue);
        let record: BatchRecord;
        try {
          record = await loadBatch(queue, id);
        } finally {
          await queue.close();
        }
        await action(o.queue, record, o);
      });
  type Lib = Awaited<ReturnType<typeof queueLib>>;
  const once = async <T>(url: string, f: (q: ReturnType<Lib['openQueue']>, lib: Lib) => Promise<T>): Promise<T> => {
    const lib = await queueLib();
    const queue = lib.openQueue(url);
    try {
      return await f(queue, lib);
    } finally {
      await queue.close();
    }
  };
  withBatch('status', 'counts, failures with reasons, and what is still pending', async (url, record, o) => {
    const { summary, pending } = await once(url, (q, lib) => lib.batchStatus(q, record));
    if (o.json) console.log(JSON.stringify({ ...summary, pending }));
    else printCounts(summary, pending);
  });
  withBatch('wait', 'wait until every job of the batch is settled, then print the summary', (url, record, o) =>
    follow(url, record, o, print),
  );
  withBatch('retry-failed', 'put the failed jobs of the batch back in the queue', async (url, record) => {
    console.log(`${await once(url, (q, lib) => lib.retryFailed(q, record))} failed jobs queued again`);
  });
  withBatch('clean', 'remove the batch and its jobs from Redis (outputs stay)', async (url, record) => {
    const r = await once(url, (q, lib) => lib.cleanBatch(q, record));
    console.log(
      `${r.removed} jobs removed${r.running ? `, ${r.running} still running (the batch record is kept; clean again later)` : ''}`,
    );
  });
  return cmd;
}
