import type { EpChoice, OutputFormat } from './types';

/** What the host hands a job worker: paths already checked against the allow-list, model resolved to a file. */

interface RunOptions {
  readonly modelPath: string;
  readonly scale: number;
  readonly ep: EpChoice;
  readonly tile: number;
  readonly threads: number;
  readonly format: OutputFormat | 'same';
  readonly quality: number;
  readonly keepMetadata: boolean;
  /** The config folder's GPU speed verdicts (`auto`'s first-run check). */
  readonly gpuVerdicts?: string;
}

export interface UpscaleTask extends RunOptions {
  readonly kind: 'upscale';
  readonly input: string;
  readonly output: string;
}

export interface BatchTask extends RunOptions {
  readonly kind: 'batch';
  readonly files: readonly { readonly input: string; readonly output: string; readonly skip: boolean }[];
}

export interface DistillTask {
  readonly kind: 'distill';
  /** Run folder (checkpoints, config.json, the exported model). */
  readonly outDir: string;
  /** A raw training config; the training engine validates it. */
  readonly config: { readonly steps: number } & Record<string, unknown>;
}

export interface PruneTask {
  readonly kind: 'prune';
  /** Run folder (checkpoints, config.json, the sparse model, importance.json). */
  readonly outDir: string;
  /** A raw training config with `optim.type: 'obprox'`; engine/compress validates it. */
  readonly config: { readonly steps: number } & Record<string, unknown>;
}

export type WorkerTask = UpscaleTask | BatchTask | DistillTask | PruneTask;
