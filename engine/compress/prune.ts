import path from 'node:path';
import { resolveTrainConfig, runTrainJob, type TrainJobOptions, type TrainJobRequest } from '../train/job';
import type { TrainConfig } from '../train/config';
import type { TrainResult } from '../train/trainer';
import { importanceOfCheckpoint, writeImportanceReport, type ImportanceReport } from './importance';
import { makeOBProx } from './obprox';

/**
 * Stage 1 as a job: the training job (engine/train/job.ts) fine-tuning the teacher (config
 * `init`) with OBProx-SG, which drives unimportant weights to exact zeros, then the result
 * analysed into `<run>/importance.json`. The run folder is a training run's (checkpoints, resume,
 * `model.onnx`, `model.safetensors` holding the sparse weights: pruning runs keep no EMA).
 */

export const IMPORTANCE_FILE = 'importance.json';

export interface PruneResult {
  train: TrainResult;
  /** Absent when the run was aborted before its last step. */
  report?: ImportanceReport;
  reportPath?: string;
}

/** The config a prune job runs with: a training config naming `optim.type: 'obprox'`. */
export function resolvePruneConfig(req: TrainJobRequest): Promise<TrainConfig> {
  return resolveTrainConfig(req, 'obprox');
}

export async function runPruneJob(req: TrainJobRequest, opts: Omit<TrainJobOptions, 'obprox'> = {}): Promise<PruneResult> {
  const { config, ...train } = await runTrainJob(req, { ...opts, obprox: makeOBProx });
  if (!train.exported) return { train };
  const report = await importanceOfCheckpoint(config.model, train.exported.weights);
  const reportPath = path.join(req.outDir, IMPORTANCE_FILE);
  await writeImportanceReport(reportPath, report);
  return { train, report, reportPath };
}
