import { readRunConfig } from '../train/run-dir';
import { validateTrainConfig, type TrainConfig } from '../train/config';
import { Trainer, type TrainEvents, type TrainResult } from '../train/trainer';

/**
 * The training job as every front end runs it (CLI, web mode, Electron): resolve the config
 * (fresh, or the run folder's own when resuming), run the trainer, and forward its events as
 * one tagged stream. Cancellation is an AbortSignal (the trainer checkpoints before it stops);
 * pausing is a callback polled between steps, so a worker thread can map it to a shared flag.
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
}

export interface TrainJobHooks {
  signal?: AbortSignal;
  onEvent?: (e: TrainJobEvent) => void;
  /** Asked after every step; while it returns true the job waits (polled every 100 ms). */
  isPaused?: () => boolean;
}

/** The config a job will run with: validated and defaults filled. */
export async function resolveTrainConfig(req: TrainJobRequest): Promise<TrainConfig> {
  if (req.resume) {
    const saved = validateTrainConfig(await readRunConfig(req.outDir));
    return req.steps === undefined ? saved : validateTrainConfig({ ...saved, steps: req.steps });
  }
  if (req.config === undefined) throw new TypeError('a training job needs a config (or resume: true with a run folder)');
  return validateTrainConfig(req.config);
}

export async function runTrainJob(req: TrainJobRequest, hooks: TrainJobHooks = {}): Promise<TrainResult> {
  const config = await resolveTrainConfig(req);
  const trainer = new Trainer(config, req.outDir, { resume: req.resume === true });
  const forward = <K extends keyof TrainEvents>(type: K) =>
    trainer.on(type, (p) => hooks.onEvent?.({ type, ...(p as object) } as TrainJobEvent));
  const offs = (['progress', 'status', 'validation', 'checkpoint'] as const).map(forward);
  let poll: ReturnType<typeof setInterval> | undefined;
  if (hooks.isPaused) {
    const isPaused = hooks.isPaused;
    const sync = () => (isPaused() ? trainer.pause() : trainer.resume());
    sync();
    poll = setInterval(sync, 100);
  }
  try {
    return await trainer.run(hooks.signal);
  } finally {
    if (poll) clearInterval(poll);
    for (const off of offs) off();
  }
}
