import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import type { OutputFormat } from '../image/formats';
import { collectInputs, DEFAULT_TEMPLATE, plannedOutput, type BatchSummary } from '../upscale/batch';
import { resolveModel, type ModelRequest } from '../upscale/model';
import { scaleLabel } from '../upscale/pipeline';
import { redisConnection, UPSCALE_QUEUE } from './connection';
import { upscaleJobId, type UpscaleJobData, type UpscaleJobResult } from './upscale-job';

/**
 * Batch bookkeeping for the producer side (`minisr upscale --queue`, `minisr queue ...`): one
 * job per image, a batch record in Redis listing them, and a summary shaped like a local batch's.
 */

export interface QueueUpscaleOptions {
  model: ModelRequest;
  scale?: number;
  format: OutputFormat | 'same';
  quality?: number;
  tile: number | 'auto';
  overlap?: number;
  outDir?: string;
  recursive?: boolean;
  include?: string;
  template?: string;
  skipExisting?: boolean;
  keep16bit?: boolean;
  keepMetadata?: boolean;
}

export interface BatchRecord {
  id: string;
  created: string;
  model: string;
  scale: number;
  scaleLabel: string;
  jobs: { id: string; input: string }[];
  /** Refused before queueing (an output that would overwrite an input or another image's output). */
  refused: { input: string; reason: string }[];
}

/** Transient failures (storage, a worker's provider) are retried with backoff; bad images fail at once. */
const JOB_OPTIONS = { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false };

const recordKey = (id: string) => `minisr:batch:${id}`;

export function openQueue(url: string): Queue<UpscaleJobData, UpscaleJobResult> {
  return new Queue<UpscaleJobData, UpscaleJobResult>(UPSCALE_QUEUE, { connection: redisConnection(url) });
}

function absoluteModel(m: ModelRequest): ModelRequest {
  const isPath = (v: string) => /[/\\]|\.onnx$/i.test(v);
  return {
    ...(m.model !== undefined ? { model: isPath(m.model) ? resolve(m.model) : m.model } : {}),
    ...(m.weights !== undefined ? { weights: resolve(m.weights) } : {}),
    ...(m.modelsDir !== undefined ? { modelsDir: resolve(m.modelsDir) } : {}),
  };
}

/** An image to queue: its output as the producer planned it (null when it could not read the image). */
export interface PlannedImage {
  input: string;
  output: string | null;
  /** The folder it was found in (outputs mirror the tree below it). */
  root?: string;
}

/** Enqueues one job per image; job ids are content keys, so enqueueing the same batch again adds nothing. */
export async function enqueueUpscaleBatch(
  queue: Queue<UpscaleJobData, UpscaleJobResult>,
  paths: readonly string[],
  opts: QueueUpscaleOptions,
): Promise<BatchRecord> {
  const model = await resolveModel(opts.model);
  const scale = opts.scale ?? model.scale;
  scaleLabel(scale, model.scale); // refuses a factor the model cannot reach, before anything is queued
  const outDir = opts.outDir ? resolve(opts.outDir) : undefined;
  const items = await collectInputs(paths, {
    ...(opts.recursive ? { recursive: true } : {}),
    ...(opts.include ? { include: opts.include } : {}),
  });
  const planned: PlannedImage[] = [];
  for (const item of items) {
    // An image the producer cannot read is still queued: its worker fails it with the engine's reason.
    const output = await plannedOutput(item, {
      modelId: model.id,
      scale,
      format: opts.format,
      template: opts.template ?? DEFAULT_TEMPLATE,
      ...(outDir ? { outDir } : {}),
    }).catch(() => null);
    planned.push({ input: item.input, output, ...(item.root ? { root: item.root } : {}) });
  }
  return enqueuePlanned(queue, model, planned, opts);
}

/**
 * Enqueues images whose outputs are already planned (the app's batches, named by its settings;
 * `enqueueUpscaleBatch`'s), with `opts.model` resolved to `model`. An output that would overwrite an input or another image's output
 * is refused before anything is queued, and listed in the record.
 */
export async function enqueuePlanned(
  queue: Queue<UpscaleJobData, UpscaleJobResult>,
  model: { id: string; scale: number },
  planned: readonly PlannedImage[],
  opts: QueueUpscaleOptions,
): Promise<BatchRecord> {
  const scale = opts.scale ?? model.scale;
  const template = opts.template ?? DEFAULT_TEMPLATE;
  const outDir = opts.outDir ? resolve(opts.outDir) : undefined;
  const inputs = new Set(planned.map((i) => i.input));
  const claimed = new Map<string, string>();
  const refused: BatchRecord['refused'] = [];
  const jobs: { name: string; data: UpscaleJobData; opts: typeof JOB_OPTIONS & { jobId: string } }[] = [];
  for (const item of planned) {
    const output = item.output;
    if (output && inputs.has(output)) {
      refused.push({ input: item.input, reason: `${item.input}: output ${output} would overwrite an input file` });
      continue;
    }
    const other = output ? claimed.get(output) : undefined;
    if (output && other) {
      refused.push({ input: item.input, reason: `${item.input}: output ${output} is also the output of ${other}` });
      continue;
    }
    if (output) claimed.set(output, item.input);
    const data: UpscaleJobData = {
      batch: '',
      input: item.input,
      output,
      model: absoluteModel(opts.model),
      modelId: model.id,
      scale,
      format: opts.format,
      ...(opts.quality !== undefined ? { quality: opts.quality } : {}),
      tile: opts.tile,
      ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
      keep16bit: opts.keep16bit ?? true, // the engine's default: 16-bit PNG/TIFF sources stay 16-bit
      keepMetadata: opts.keepMetadata ?? true,
      template,
      ...(outDir ? { outDir } : {}),
      ...(item.root ? { root: item.root } : {}),
      skipExisting: opts.skipExisting ?? false,
    };
    jobs.push({ name: 'upscale', data, opts: { ...JOB_OPTIONS, jobId: upscaleJobId(data) } });
  }
  const id = createHash('sha256')
    .update(jobs.map((j) => j.opts.jobId).join(',') + JSON.stringify(refused))
    .digest('hex')
    .slice(0, 16);
  for (const j of jobs) j.data.batch = id;
  const record: BatchRecord = {
    id,
    created: new Date().toISOString(),
    model: model.id,
    scale,
    scaleLabel: scaleLabel(scale, model.scale),
    jobs: jobs.map((j) => ({ id: j.opts.jobId, input: j.data.input })),
    refused,
  };
  const client = await queue.backend.client;
  if ((await client.get(recordKey(id))) === null) await client.set(recordKey(id), JSON.stringify(record));
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
  return record;
}

export async function loadBatch(queue: Queue, id: string): Promise<BatchRecord> {
  const raw = await (await queue.backend.client).get(recordKey(id));
  if (raw === null) throw new Error(`no batch ${JSON.stringify(id)} in this queue`);
  return JSON.parse(raw) as BatchRecord;
}

export type JobOutcome =
  | { state: 'pending'; detail: string }
  | { state: 'done'; result: UpscaleJobResult }
  | { state: 'failed'; reason: string; attempts: number };

/** Where one job stands; a job removed from the queue counts as failed. */
export async function jobOutcome(queue: Queue<UpscaleJobData, UpscaleJobResult>, id: string): Promise<JobOutcome> {
  // State first: a finished job's hash already holds its result (both change in one Redis script).
  const state = await queue.getJobState(id);
  if (state === 'unknown') return { state: 'failed', reason: 'the job is no longer in the queue (cleaned?)', attempts: 0 };
  if (state !== 'completed' && state !== 'failed') return { state: 'pending', detail: state };
  const job = await queue.getJob(id);
  if (!job) return { state: 'failed', reason: 'the job is no longer in the queue (cleaned?)', attempts: 0 };
  if (state === 'completed') return { state: 'done', result: job.returnvalue };
  return { state: 'failed', reason: job.failedReason, attempts: job.attemptsMade };
}

export function summaryOf(record: BatchRecord, outcomes: readonly JobOutcome[], seconds: number): BatchSummary {
  const s: BatchSummary = {
    model: record.model,
    scale: record.scale,
    scaleLabel: record.scaleLabel,
    succeeded: [],
    failed: record.refused.map((r) => ({ ...r })),
    skipped: [],
    cancelled: false,
    seconds,
  };
  outcomes.forEach((o, i) => {
    const input = record.jobs[i]!.input;
    if (o.state === 'failed') s.failed.push({ input, reason: o.reason });
    else if (o.state === 'done' && o.result.status === 'skipped')
      s.skipped.push({ input, output: o.result.output, reason: o.result.reason });
    else if (o.state === 'done' && o.result.status === 'done') {
      const { status: _s, worker: _w, ...r } = o.result;
      s.succeeded.push(r);
    }
  });
  return s;
}

export type QueueBatchEvent =
  | { type: 'progress'; index: number; total: number; input: string; tilesDone: number; tilesTotal: number }
  | { type: 'settled'; index: number; total: number; input: string; outcome: JobOutcome };

/**
 * Follows a batch until every job is settled: QueueEvents say when to look, and a slow sweep
 * over the unsettled jobs catches what was missed (events sent while Redis was restarting).
 */
export async function followBatch(
  url: string,
  queue: Queue<UpscaleJobData, UpscaleJobResult>,
  record: BatchRecord,
  onEvent: (e: QueueBatchEvent) => void = () => {},
  sweepMs = 2000,
): Promise<BatchSummary> {
  const t0 = performance.now();
  const index = new Map(record.jobs.map((j, i) => [j.id, i]));
  const outcomes: (JobOutcome | undefined)[] = record.jobs.map(() => undefined);
  let unsettled = record.jobs.length;
  let wake: () => void = () => {};
  const settle = (i: number, o: JobOutcome) => {
    if (outcomes[i]) return;
    outcomes[i] = o;
    unsettled--;
    onEvent({ type: 'settled', index: i, total: record.jobs.length, input: record.jobs[i]!.input, outcome: o });
    if (unsettled === 0) wake();
  };
  const check = async (i: number) => {
    if (outcomes[i]) return;
    const o = await jobOutcome(queue, record.jobs[i]!.id);
    if (o.state !== 'pending') settle(i, o);
  };
  const events = new QueueEvents(UPSCALE_QUEUE, { connection: redisConnection(url) });
  // A completed job is final and its event carries the result: no round trip. A failed attempt
  // may be retried, so a failure is looked up.
  events.on('completed', ({ jobId, returnvalue }) => {
    const i = index.get(jobId);
    if (i !== undefined) settle(i, { state: 'done', result: returnvalue as unknown as UpscaleJobResult });
  });
  events.on('failed', ({ jobId }) => {
    const i = index.get(jobId);
    if (i !== undefined) void check(i).catch(() => {});
  });
  events.on('progress', ({ jobId, data }) => {
    const i = index.get(jobId);
    const p = data as { tilesDone?: number; tilesTotal?: number };
    if (i !== undefined && !outcomes[i] && typeof p.tilesDone === 'number' && typeof p.tilesTotal === 'number')
      onEvent({
        type: 'progress',
        index: i,
        total: record.jobs.length,
        input: record.jobs[i]!.input,
        tilesDone: p.tilesDone,
        tilesTotal: p.tilesTotal,
      });
  });
  events.on('error', () => {}); // reconnects by itself; the sweep covers the gap
  try {
    while (unsettled > 0) {
      for (let i = 0; i < outcomes.length && unsettled > 0; i += 64)
        await Promise.all(outcomes.slice(i, i + 64).map((o, k) => (o ? undefined : check(i + k))));
      if (unsettled === 0) break;
      await new Promise<void>((res) => {
        wake = res;
        setTimeout(res, sweepMs).unref();
      });
    }
  } finally {
    await events.close().catch(() => {});
  }
  return summaryOf(record, outcomes as JobOutcome[], (performance.now() - t0) / 1000);
}

/** Current state of a batch without waiting. */
export async function batchStatus(
  queue: Queue<UpscaleJobData, UpscaleJobResult>,
  record: BatchRecord,
): Promise<{ summary: BatchSummary; pending: { input: string; state: string }[] }> {
  const outcomes = await Promise.all(record.jobs.map((j) => jobOutcome(queue, j.id)));
  const pending = outcomes.flatMap((o, i) => (o.state === 'pending' ? [{ input: record.jobs[i]!.input, state: o.detail }] : []));
  return { summary: summaryOf(record, outcomes, 0), pending };
}

/** Puts the batch's failed jobs back in the queue (after the image was fixed, or a worker was). */
export async function retryFailed(queue: Queue<UpscaleJobData, UpscaleJobResult>, record: BatchRecord): Promise<number> {
  let n = 0;
  for (const j of record.jobs) {
    const job = await queue.getJob(j.id);
    if (job && (await job.getState()) === 'failed') {
      await job.retry('failed');
      n++;
    }
  }
  return n;
}

/** Removes the batch's jobs (outputs stay) and its record; a job still running is left alone. */
export async function cleanBatch(
  queue: Queue<UpscaleJobData, UpscaleJobResult>,
  record: BatchRecord,
): Promise<{ removed: number; running: number }> {
  let removed = 0;
  let running = 0;
  for (const j of record.jobs) {
    const job = await queue.getJob(j.id);
    if (!job) continue;
    if ((await job.getState()) === 'active') running++;
    else {
      await job.remove();
      removed++;
    }
  }
  if (running === 0) await (await queue.backend.client).del(recordKey(record.id));
  return { removed, running };
}
