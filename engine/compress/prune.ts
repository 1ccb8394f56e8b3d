import path from 'node:path';
import { validateTrainConfig, type TrainConfig } from '../train/config';
import { readRunConfig } from '../train/run-dir';
import { Trainer, type TrainEvents, type TrainResult } from '../train/trainer';
import { importanceOfCheckpoint, writeImportanceReport, type ImportanceReport } from './importance';
import { makeOBProx } from './obprox';

/**
 * Stage 1 as a job: fine-tune the teacher (config `init`) with OBProx-SG (`optim.type: 'obprox'`),
 * which drives unimportant weights to exact zeros, then analyse the result into
 * `<run>/importance.json`. The run folder is a training run's (checkpoints, resume, `model.onnx`,
 * `model.safetensors` holding the sparse weights: pruning runs keep no EMA).
 */

export const IMPORTANCE_FILE = 'importance.json';

export type PruneEvent = { [K in keyof TrainEvents]: { type: K } & TrainEvents[K] }[keyof TrainEvents];

export interface PruneRequest {
  outDir: string;
  /** A raw training config with `optim.type: 'obprox'` (validated here); ignored when resuming. */
  config?: unknown;
  resume?: boolean;
  /** When resuming: run up to this many steps. */
  steps?: number;
}

export interface PruneResult {
  train: TrainResult;
  /** Absent when the run was aborted before its last step. */
  report?: ImportanceReport;
  reportPath?: string;
}

export async function resolvePruneConfig(req: PruneRequest): Promise<TrainConfig> {
  let cfg: TrainConfig;
  if (req.resume) {
    const saved = validateTrainConfig(await readRunConfig(req.outDir));
    cfg = req.steps === undefined ? saved : validateTrainConfig({ ...saved, steps: req.steps });
  } else {
    if (req.config === undefined) throw new TypeError('a prune job needs a config (or resume: true with a run folder)');
    cfg = validateTrainConfig(req.config);
  }
  if (cfg.optim.type !== 'obprox') throw new TypeError(`a prune job trains with optim.type obprox, got ${cfg.optim.type}`);
  return cfg;
}

export async function runPruneJob(
  req: PruneRequest,
  hooks: { signal?: AbortSignal; onEvent?: (e: PruneEvent) => void } = {},
): Promise<PruneResult> {
  const config = await resolvePruneConfig(req);
  const trainer = new Trainer(config, req.outDir, { resume: req.resume === true, obprox: makeOBProx });
  const forward = <K extends keyof TrainEvents>(type: K) =>
    trainer.on(type, (p) => hooks.onEvent?.({ type, ...(p as object) } as PruneEvent));
  const offs = (['progress', 'status', 'validation', 'checkpoint'] as const).map(forward);
  try {
    const train = await trainer.run(hooks.signal);
    if (!train.exported) return { train };
    const report = await importanceOfCheckpoint(config.model, train.exported.weights);
    const reportPath = path.join(req.outDir, IMPORTANCE_FILE);
    await writeImportanceReport(reportPath, report);
    return { train, report, reportPath };
  } finally {
    for (const off of offs) off();
  }
}
