import { validateTrainConfig, type TrainConfig } from './config';
import { readRunConfig } from './run-dir';
import { Trainer, type TrainerOptions, type TrainEvents, type TrainResult } from './trainer';

/**
 * The training job as every front end runs it (CLI, web mode, Electron), for distillation and
 * pruning alike: resolve the config (fresh, or the run folder's own when resuming), run the
 * trainer, and forward its events as one tagged stream. Cancellation is an AbortSignal (the
 * trainer checkpoints before it stops); pausing is a callback polled between steps and mapped
 * onto the trainer's own pause()/resume(), so a worker thread can drive it from a shared flag.
 */

export type TrainJobEvent = { [K in keyof TrainEvents]: { type: K } & TrainEvents[K] }[keyof TrainEvents];

export interface TrainJobRequest {
  /** Run folder: checkpoints, config.json, the exported model. */
  outDir: string;
  /** A raw config (validated here); ignored when resuming, where the run folder's config.json rules. */
  config?: unknown;
  /** Continue the run in `outDir` from its latest checkpoint. */
  resume?: boolean;
  /** When resuming: train up to this many steps instead of the saved count (extends a finished run). */
  steps?: number;
  /** Wall-clock budget of this run (see TrainerOptions.maxSeconds). */
  maxSeconds?: number;
}

export interface TrainJobOptions {
  signal?: AbortSignal;
  onEvent?: (e: TrainJobEvent) => void;
  /** Asked every 100 ms; while it returns true the trainer holds before its next step. */
  isPaused?: () => boolean;
  /**
   * The optimizer: Adam/AdamW as the config names it (the default), or OBProx-SG, which
   * engine/compress hands in (that layer sits above this one); given, the config must name `obprox`.
   */
  obprox?: TrainerOptions['obprox'];
}

export type TrainJobResult = TrainResult & { config: TrainConfig };

/** The config a job will run with: validated, defaults filled, and (for OBProx-SG) the optimizer it must name. */
export async function resolveTrainConfig(req: TrainJobRequest, optimizer?: 'obprox'): Promise<TrainConfig> {
  let cfg: TrainConfig;
  if (req.resume) {
    const saved = validateTrainConfig(await readRunConfig(req.outDir));
    cfg = req.steps === undefined ? saved : validateTrainConfig({ ...saved, steps: req.steps });
  } else {
    if (req.config === undefined) throw new TypeError('a training job needs a config (or resume: true with a run folder)');
    cfg = validateTrainConfig(req.config);
  }
  if (optimizer && cfg.optim.type !== optimizer) throw new TypeError(`this job trains with optim.type ${optimizer}, got ${cfg.optim.type}`);
  return cfg;
}

export async function runTrainJob(req: TrainJobRequest, opts: TrainJobOptions = {}): Promise<TrainJobResult> {
  const config = await resolveTrainConfig(req, opts.obprox ? 'obprox' : undefined);
  const trainer = new Trainer(config, req.outDir, {
    resume: req.resume === true,
    ...(req.maxSeconds !== undefined ? { maxSeconds: req.maxSeconds } : {}),
    ...(opts.obprox ? { obprox: opts.obprox } : {}),
  });
  const forward = <K extends keyof TrainEvents>(type: K) =>
    trainer.on(type, (p) => opts.onEvent?.({ type, ...(p as object) } as TrainJobEvent));
  const offs = (['progress', 'status', 'validation', 'checkpoint'] as const).map(forward);
  let poll: ReturnType<typeof setInterval> | undefined;
  if (opts.isPaused) {
    const isPaused = opts.isPaused;
    const sync = () => (isPaused() ? trainer.pause() : trainer.resume());
    sync();
    poll = setInterval(sync, 100);
  }
  try {
    return { ...(await trainer.run(opts.signal)), config };
  } finally {
    if (poll) clearInterval(poll);
    for (const off of offs) off();
  }
}
