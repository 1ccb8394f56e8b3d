import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolvePruneConfig, runPruneJob } from '../compress/prune';
import { resolveTrainConfig, runTrainJob, type TrainJobEvent, type TrainJobResult } from '../train/job';
import type { TrainConfig } from '../train/config';

/**
 * A training, distillation or pruning run as a queue job. The run folder lives on shared storage and is
 * the job's whole state: a worker that finds checkpoints there resumes from the latest (the
 * trainer repeats the losses of an uninterrupted run bit for bit), so a run whose worker died
 * carries on elsewhere.
 */

export interface TrainQueueData {
  /** Absolute run folder, on storage every worker sees. */
  outDir: string;
  /** Validated config with absolute paths. */
  config: TrainConfig;
  /** Stage 1 of compression (`minisr prune`): OBProx-SG, then `importance.json`; absent: a training or distillation run. */
  kind?: 'prune';
}

export interface TrainQueueResult {
  step: number;
  aborted: boolean;
  finalLoss?: number;
  validation?: { psnr: number; ssim: number };
  exported?: { onnx: string; card: string };
  /** A prune run's `importance.json`. */
  importance?: string;
  worker: string;
}

/** One run per folder: enqueueing the same run twice does it once. */
export function trainJobId(outDir: string): string {
  return `train-${createHash('sha256').update(resolve(outDir)).digest('hex').slice(0, 32)}`;
}

/** The config as a worker elsewhere must read it: every path absolute (relative to the producer's folder). */
export function withAbsolutePaths(c: TrainConfig): TrainConfig {
  const t = c.teacher;
  return {
    ...c,
    data: { ...c.data, dir: resolve(c.data.dir) },
    ...(c.val ? { val: { ...c.val, dir: resolve(c.val.dir) } } : {}),
    ...(t ? { teacher: t.type === 'onnx' ? { ...t, path: resolve(t.path) } : { ...t, weights: resolve(t.weights) } } : {}),
    ...(c.init ? { init: { ...c.init, weights: resolve(c.init.weights) } } : {}),
    cacheDir: resolve(c.cacheDir),
  };
}

export async function queuedTrainData(outDir: string, rawConfig: unknown, kind?: 'prune'): Promise<TrainQueueData> {
  const config = await (kind === 'prune' ? resolvePruneConfig : resolveTrainConfig)({ outDir, config: rawConfig });
  return { outDir: resolve(outDir), config: withAbsolutePaths(config), ...(kind ? { kind } : {}) };
}

export async function runQueuedTraining(
  d: TrainQueueData,
  hooks: { signal?: AbortSignal; onEvent?: (e: TrainJobEvent) => void; worker: string },
): Promise<TrainQueueResult> {
  const resume = existsSync(join(d.outDir, 'latest.json'));
  const req = resume ? { outDir: d.outDir, resume: true } : { outDir: d.outDir, config: d.config };
  const opts = { ...(hooks.signal ? { signal: hooks.signal } : {}), ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}) };
  let r: Omit<TrainJobResult, 'config'>;
  let importance: string | undefined;
  if (d.kind === 'prune') {
    const pruned = await runPruneJob(req, opts);
    r = pruned.train;
    importance = pruned.reportPath;
  } else r = await runTrainJob(req, opts);
  const last = r.history.loss[r.history.loss.length - 1];
  return {
    step: r.step,
    aborted: r.aborted,
    ...(last !== undefined ? { finalLoss: last } : {}),
    ...(r.finalValidation ? { validation: { psnr: r.finalValidation.psnr, ssim: r.finalValidation.ssim } } : {}),
    ...(r.exported ? { exported: r.exported } : {}),
    ...(importance ? { importance } : {}),
    worker: hooks.worker,
  };
}
