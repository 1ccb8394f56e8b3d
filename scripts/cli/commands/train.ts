import { readFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { Command } from 'commander';
import { resolveTrainConfig, runTrainJob, type TrainJobEvent, type TrainJobRequest } from '../../../engine/train/job';
import type { TrainConfig } from '../../../engine/train/config';
import type { TrainResult } from '../../../engine/train/trainer';
import { positiveInt } from '../table';
import { presetConfig } from '../../../engine/zoo/presets';

/** Flags shared by `minisr train` and `minisr distill`; each maps onto one config field. */
export interface TrainFlags {
  config?: string;
  resume?: string;
  out?: string;
  data?: string;
  limit?: number;
  scale?: number;
  val?: string;
  valInterval?: number;
  steps?: number;
  batch?: number;
  patch?: number;
  lr?: number;
  optimizer?: string;
  weightDecay?: number;
  schedule?: string;
  etaMin?: number;
  milestones?: string;
  gamma?: number;
  warmup?: number;
  gradClip?: number;
  emaDecay?: number;
  seed?: number;
  checkpointInterval?: number;
  cacheDir?: string;
  threads?: number;
  ep?: string;
  update?: string;
  degrade?: string;
  degradeCleanFraction?: number;
  maxSeconds?: number;
  worker: boolean;
  augment: boolean;
  json?: boolean;
}

const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
};
const nonNegInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return n;
};

type FlagParser = (flag: string) => (v: string) => number;

/** [flags, help, parser]: the parser is named after the flag it reads, so its errors say which flag was wrong. */
const TRAIN_OPTIONS: readonly (readonly [string, string, FlagParser?])[] = [
  ['--config <file>', 'JSON config file (flags override its fields)'],
  ['--resume <runDir>', 'continue the run in this folder from its latest checkpoint (its config.json is used)'],
  ['--out <dir>', 'run folder: config, checkpoints, exported model'],
  ['--data <dir>', 'training images: HR folder (LR made by bicubic) or NAME_HR/NAME_LR pairs'],
  ['--limit <n>', 'use only the first n training images', positiveInt],
  ['--scale <n>', 'upscale factor of the preset (2, 3 or 4; default 2): LR made by bicubic at this scale', positiveInt],
  ['--val <dir>', 'validation pairs (e.g. ../shared/datasets/Set5/x2), scored on the EMA weights'],
  ['--val-interval <n>', 'steps between validations', positiveInt],
  ['--steps <n>', 'training steps', positiveInt],
  ['--batch <n>', 'batch size', positiveInt],
  ['--patch <n>', 'LR patch side', positiveInt],
  ['--lr <x>', 'base learning rate', num],
  ['--optimizer <name>', 'adam or adamw'],
  ['--weight-decay <x>', 'weight decay', num],
  ['--schedule <name>', 'constant, cosine or multistep'],
  ['--eta-min <x>', 'cosine: final learning rate', num],
  ['--milestones <steps>', 'multistep: comma-separated step indices'],
  ['--gamma <x>', 'multistep: factor per milestone', num],
  ['--warmup <n>', 'linear warm-up steps', nonNegInt],
  ['--grad-clip <x>', 'max global gradient norm (0: off)', num],
  ['--ema-decay <x>', 'EMA decay of the weights used for validation and export', num],
  ['--seed <n>', 'seed for init, crops and augmentation', nonNegInt],
  ['--checkpoint-interval <n>', 'steps between checkpoints', positiveInt],
  ['--cache-dir <dir>', 'cache for decoded images and teacher outputs'],
  ['--threads <n>', 'onnxruntime intra-op threads (0: all cores)', nonNegInt],
  [
    '--ep <name>',
    'execution provider for training, teacher and validation: cpu (default), webgpu, cuda, dml, coreml, or auto (GPU first, CPU fallback)',
  ],
  ['--update <where>', 'where Adam and the EMA run: auto (default: in the step graph on a GPU provider), host, or graph'],
  ['--degrade <photo>', 'photo degradation of the LR inputs (blur, noise, JPEG q50-95), targets clean: a photo variant'],
  ['--degrade-clean-fraction <x>', 'with --degrade: this fraction of the samples (drawn per sample, seeded) stays clean', num],
  ['--max-seconds <s>', 'stop after this many seconds (from the start, teacher cache included), then validate, checkpoint and export', num],
  ['--no-worker', 'prepare batches on the main thread'],
  ['--no-augment', 'no flips/transpositions'],
  ['--json', 'JSON lines instead of a progress line'],
];

export function addTrainOptions(cmd: Command): Command {
  for (const [flags, help, parser] of TRAIN_OPTIONS) {
    if (parser) cmd.option(flags, help, parser(flags.split(' ')[0]!));
    else cmd.option(flags, help);
  }
  return cmd;
}

/** Looks like a benchmark folder (NAME_HR / NAME_LR files) rather than HR images only. */
function dataKind(dir: string): 'hr' | 'paired' {
  return existsSync(dir) && readdirSync(dir).some((n) => /_LR\.[^.]+$/i.test(n)) ? 'paired' : 'hr';
}

/** The raw config from --config plus flags (validated later, with errors naming the field). */
export async function configFromFlags(f: TrainFlags, extra: Record<string, unknown>): Promise<Record<string, unknown>> {
  let c: Record<string, unknown> = {};
  if (f.config) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(f.config, 'utf8'));
    } catch (e) {
      throw new Error(`--config ${f.config}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new TypeError(
        `--config ${f.config}: must hold a JSON object, got ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)}`,
      );
    }
    c = parsed as Record<string, unknown>;
  }
  const set = (obj: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) obj[key] = v;
  };
  const sub = (key: string) => (c[key] = { ...((c[key] as object | undefined) ?? {}) }) as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) set(c, k, v);
  if (f.scale !== undefined) {
    if (typeof c.preset !== 'string')
      throw new TypeError('--scale applies to a preset (--preset / --student); a model config carries its own scale');
    c.model = presetConfig(c.preset, { scale: f.scale });
  }
  if (f.data) Object.assign(sub('data'), { dir: f.data, kind: dataKind(f.data) });
  if (f.limit) sub('data').limit = f.limit;
  if (f.val) sub('val').dir = f.val;
  if (f.valInterval) sub('val').interval = f.valInterval;
  for (const [key, v] of [
    ['steps', f.steps],
    ['batch', f.batch],
    ['patch', f.patch],
    ['warmup', f.warmup],
    ['gradClip', f.gradClip],
    ['emaDecay', f.emaDecay],
    ['seed', f.seed],
    ['checkpointInterval', f.checkpointInterval],
    ['cacheDir', f.cacheDir],
    ['threads', f.threads],
    ['ep', f.ep],
    ['update', f.update],
    ['degrade', f.degrade],
  ] as const)
    set(c, key, v);
  if (f.degradeCleanFraction !== undefined) {
    if (!c.degrade) throw new TypeError('--degrade-clean-fraction needs --degrade photo');
    c.degrade = { ...(c.degrade === 'photo' ? {} : (c.degrade as object)), clean: f.degradeCleanFraction };
  }
  if (!f.worker) c.worker = false;
  if (!f.augment) c.augment = false;
  if (f.lr !== undefined) sub('optim').lr = f.lr;
  if (f.optimizer) sub('optim').type = f.optimizer;
  if (f.weightDecay !== undefined) sub('optim').weightDecay = f.weightDecay;
  if (f.schedule) c.schedule = { type: f.schedule };
  if (f.etaMin !== undefined) sub('schedule').etaMin = f.etaMin;
  if (f.milestones) sub('schedule').milestones = f.milestones.split(',').map(Number);
  if (f.gamma !== undefined) sub('schedule').gamma = f.gamma;
  return c;
}

function duration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/** Progress on a TTY as one rewritten line; elsewhere a line every 10 s; with --json, JSON lines. */
function reporter(json: boolean): (e: TrainJobEvent) => void {
  const tty = process.stderr.isTTY === true;
  let lastPrint = 0;
  return (e) => {
    if (json) {
      console.log(JSON.stringify(e));
      return;
    }
    if (e.type === 'progress') {
      const val = e.lastValPsnr !== undefined ? `  val ${e.lastValPsnr.toFixed(2)} dB` : '';
      const line = `step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${e.stepsPerSec.toFixed(2)} steps/s  ETA ${duration(e.etaSec)}${val}`;
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (Date.now() - lastPrint > 10_000 || e.step === e.totalSteps) {
        console.error(line);
        lastPrint = Date.now();
      }
    } else {
      const msg =
        e.type === 'validation'
          ? `validation at step ${e.step}: PSNR-Y ${e.psnr.toFixed(3)} dB, SSIM-Y ${e.ssim.toFixed(4)}`
          : e.type === 'checkpoint'
            ? `checkpoint ${e.path}`
            : `${e.phase}${e.detail ? `: ${e.detail}` : ''}`;
      if (e.type === 'status' && e.phase === 'teacher-cache' && tty) process.stderr.write(`\r\x1b[K${msg}`);
      else if (e.type !== 'status' || e.phase !== 'teacher-cache' || /^(\d+)\/\1 /.test(e.detail ?? ''))
        console.error(`${tty ? '\r\x1b[K' : ''}${msg}`);
    }
  };
}

/** How a command resolves and runs its job (`minisr prune` runs the prune job instead of the plain training job). */
export interface CliJob {
  resolve(req: TrainJobRequest): Promise<TrainConfig>;
  run(req: TrainJobRequest, hooks: { signal: AbortSignal; onEvent: (e: TrainJobEvent) => void }): Promise<TrainResult>;
}

const TRAIN_JOB: CliJob = { resolve: resolveTrainConfig, run: runTrainJob };

/** Runs a job with Ctrl-C mapped to abort (the trainer saves a checkpoint first) and prints the outcome. */
export async function runFromCli(req: TrainJobRequest, json: boolean, job: CliJob = TRAIN_JOB): Promise<TrainResult> {
  const config = await job.resolve(req);
  if (!json)
    console.error(
      `${req.resume ? 'resuming' : 'training'} ${config.preset ?? config.model.family} into ${req.outDir}: ${config.steps} steps, batch ${config.batch}, LR patch ${config.patch}, lr ${config.optim.lr} (${config.optim.type}${config.optim.type === 'obprox' ? `, lambda ${config.optim.lambda}, ${config.optim.proxSteps} Prox-SG steps` : ''}), loss ${config.loss.type}`,
    );
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    const r = await job.run({ ...req, ...(req.resume ? {} : { config }) }, { signal: ac.signal, onEvent: reporter(json) });
    const summary = {
      step: r.step,
      aborted: r.aborted,
      ...(r.timeLimited ? { timeLimited: true } : {}),
      finalLoss: r.history.loss[r.history.loss.length - 1],
      validation: r.finalValidation
        ? { psnr: r.finalValidation.psnr, ssim: r.finalValidation.ssim, images: r.finalValidation.images }
        : undefined,
      exported: r.exported,
    };
    if (json) console.log(JSON.stringify({ type: 'result', ...summary }));
    else if (r.aborted) console.error(`\nstopped at step ${r.step}; continue with: minisr ${process.argv[2]} --resume ${req.outDir}`);
    else
      console.error(
        `\ndone: ${r.step} steps${r.timeLimited ? ' (--max-seconds reached)' : ''}${summary.validation ? `, PSNR-Y ${summary.validation.psnr.toFixed(3)} dB` : ''}${r.exported ? `; model ${r.exported.onnx}, card ${r.exported.card}` : ''}`,
      );
    return r;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

export function requestFromFlags(f: TrainFlags, config: Record<string, unknown> | undefined): TrainJobRequest {
  const limit = f.maxSeconds !== undefined ? { maxSeconds: f.maxSeconds } : {};
  if (f.resume) return { outDir: f.resume, resume: true, ...(f.steps ? { steps: f.steps } : {}), ...limit };
  if (!f.out) throw new TypeError('--out <dir> is required (or --resume <runDir>)');
  return { outDir: f.out, config, ...limit };
}

/** The config fields `minisr train` sets beyond the shared training flags. */
export function trainConfigFields(f: { preset?: string; loss?: string; init?: string; initPartial?: boolean }): Record<string, unknown> {
  if (f.initPartial && !f.init) throw new TypeError('--init-partial needs --init <file>');
  return {
    preset: f.preset,
    ...(f.loss ? { loss: { type: f.loss } } : {}),
    ...(f.init ? { init: { weights: f.init, ...(f.initPartial ? { partial: true } : {}) } } : {}),
  };
}

/** `minisr train`: training of a zoo preset, from scratch or (--init) from given weights. */
export function trainCommand(): Command {
  return addTrainOptions(
    new Command('train')
      .description('train a super-resolution model from scratch (EMA weights exported to ONNX with a model card)')
      .option('--preset <name>', 'model preset (e.g. edsr-mini, swinir-mini)')
      .option('--loss <name>', 'l1, charbonnier or mse')
      .option(
        '--init <file>',
        'start from these weights (.pth / .safetensors of the same architecture) instead of a fresh init: fine-tuning',
      )
      .option(
        '--init-partial',
        'with --init: take the tensors whose key and shape match, start the rest fresh (an x4 model from x2 weights)',
      ),
  ).action(async (f: TrainFlags & { preset?: string; loss?: string; init?: string; initPartial?: boolean }) => {
    const config = f.resume ? undefined : await configFromFlags(f, trainConfigFields(f));
    await runFromCli(requestFromFlags(f, config), f.json === true);
  });
}
