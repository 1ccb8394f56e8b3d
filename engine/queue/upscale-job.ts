import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { probeImage } from '../image/decode';
import { ImageDecodeError, ImageEncodeError } from '../image/errors';
import type { OutputFormat } from '../image/formats';
import type { EpChoice } from '../runtime/select';
import { describeFailure, plannedOutput, type BatchSummary } from '../upscale/batch';
import { resolveModel, type ModelRequest, type UpscaleModel } from '../upscale/model';
import { removeStaleTemps, upscaleFile, type UpscaleProgress } from '../upscale/pipeline';

/**
 * One queued image: what the producer puts in the job, the job id that makes enqueueing
 * idempotent, and what a worker does with it (the engine's upscaleFile, nothing of its own).
 */

export interface UpscaleJobData {
  batch: string;
  input: string;
  /** Planned by the producer; null when it could not read the image (the worker then fails it with the engine's reason). */
  output: string | null;
  /** Paths here are absolute, on storage every worker sees. */
  model: ModelRequest;
  modelId: string;
  scale: number;
  format: OutputFormat | 'same';
  quality?: number;
  tile: number | 'auto';
  overlap?: number;
  keep16bit: boolean;
  keepMetadata: boolean;
  template: string;
  outDir?: string;
  root?: string;
  skipExisting: boolean;
}

export type UpscaleJobResult =
  | ({
      status: 'done';
      worker: string;
      /** Set when a retry found the output an earlier attempt (its worker killed before reporting) had written. */
      note?: string;
    } & BatchSummary['succeeded'][number])
  | { status: 'skipped'; input: string; output: string; reason: string; worker: string };

/** Same input, model and options: same id, so a batch enqueued twice is done once. */
export function upscaleJobId(d: UpscaleJobData): string {
  const key = {
    input: d.input,
    output: d.output,
    model: d.model,
    modelId: d.modelId,
    scale: d.scale,
    format: d.format,
    quality: d.quality,
    tile: d.tile,
    overlap: d.overlap,
    keep16bit: d.keep16bit,
    keepMetadata: d.keepMetadata,
  };
  return `up-${createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32)}`;
}

export interface WorkerContext {
  ep: EpChoice;
  threads?: number;
  modelsDir?: string;
  name: string;
}

const models = new Map<string, Promise<UpscaleModel>>();

function modelFor(req: ModelRequest, modelsDir: string | undefined): Promise<UpscaleModel> {
  const r: ModelRequest = { ...req, ...(modelsDir ? { modelsDir } : {}) };
  const key = JSON.stringify(r);
  let m = models.get(key);
  if (!m) {
    m = resolveModel(r);
    m.catch(() => models.delete(key)); // a model on storage that was briefly away is tried again
    models.set(key, m);
  }
  return m;
}

/** Bad input fails at once with the engine's reason; anything else (storage, memory, a provider) is retried. */
function isBadInput(err: unknown): boolean {
  return (
    err instanceof ImageDecodeError ||
    err instanceof ImageEncodeError ||
    err instanceof RangeError ||
    /refusing to overwrite/.test(String(err))
  );
}

export interface JobRun {
  data: UpscaleJobData;
  /** This is not the job's first start (a retry, or a stalled job taken over from a dead worker). */
  rerun: boolean;
  signal?: AbortSignal;
  onProgress?: (p: UpscaleProgress) => void;
}

async function finishedEarlier(input: string, output: string, worker: string): Promise<UpscaleJobResult> {
  const [a, b] = await Promise.all([probeImage(input), probeImage(output)]);
  const sizes = { width: a.width, height: a.height, outWidth: b.width, outHeight: b.height };
  return {
    status: 'done',
    input,
    output,
    ...sizes,
    ep: 'unknown',
    seconds: 0,
    megapixelsPerSec: 0,
    worker,
    note: 'finished by an earlier attempt',
  };
}

export async function runUpscaleJob(run: JobRun, ctx: WorkerContext): Promise<UpscaleJobResult> {
  const d = run.data;
  try {
    const output =
      d.output ??
      (await plannedOutput(
        { input: d.input, ...(d.root ? { root: d.root } : {}) },
        { modelId: d.modelId, scale: d.scale, format: d.format, template: d.template, ...(d.outDir ? { outDir: d.outDir } : {}) },
      ));
    // Outputs appear by rename only, so an existing one is complete.
    if (existsSync(output) && run.rerun) return finishedEarlier(d.input, output, ctx.name);
    if (existsSync(output) && d.skipExisting)
      return { status: 'skipped', input: d.input, output, reason: 'output exists', worker: ctx.name };
    if (run.rerun) await removeStaleTemps(output); // the job's previous worker died mid-write
    await mkdir(dirname(output), { recursive: true });
    const model = await modelFor(d.model, ctx.modelsDir);
    if (model.id !== d.modelId)
      throw new UnrecoverableError(`model ${JSON.stringify(d.model)} is ${model.id} on this worker, ${d.modelId} where it was queued`);
    const r = await upscaleFile(d.input, output, {
      model,
      scale: d.scale,
      ep: ctx.ep,
      ...(ctx.threads ? { threads: ctx.threads } : {}),
      tile: d.tile,
      ...(d.overlap !== undefined ? { overlap: d.overlap } : {}),
      format: d.format,
      ...(d.quality !== undefined ? { quality: d.quality } : {}),
      keep16bit: d.keep16bit,
      keepMetadata: d.keepMetadata,
      ...(run.signal ? { signal: run.signal } : {}),
      ...(run.onProgress ? { onProgress: run.onProgress } : {}),
    });
    return {
      status: 'done',
      input: d.input,
      output: r.output,
      width: r.width,
      height: r.height,
      outWidth: r.outWidth,
      outHeight: r.outHeight,
      ep: r.ep.used,
      seconds: r.seconds,
      megapixelsPerSec: r.megapixelsPerSec,
      worker: ctx.name,
    };
  } catch (err) {
    if (err instanceof UnrecoverableError || !isBadInput(err)) throw err;
    throw new UnrecoverableError(describeFailure(err).reason);
  }
}
