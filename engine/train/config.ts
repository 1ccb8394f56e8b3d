import path from 'node:path';
import { isPresetName, presetConfig } from '../zoo/presets';
import { resolveArch, validateConfig, type ModelConfig } from '../zoo/registry';
import { EP_CHOICES, type EpChoice } from '../runtime/select';
import type { AdamConfig, OBProxSettings } from './optim';
import { validateSchedule, type ScheduleConfig } from './schedule';
import { isLevelWeights, LEVEL_WEIGHTS } from './losses';
import type { LossConfig } from './train-graph';
import { PHOTO_DEGRADE, type DegradeConfig } from './degrade';

/**
 * The trainer's configuration: a plain JSON object (from a file or CLI flags), validated field
 * by field with errors that name the field, defaults filled, and copied resolved into the run
 * folder. Sections with a `type` field are discriminated unions.
 */

export type TeacherConfig =
  /** An ONNX file exported by minisr (its card gives the architecture) or any model with input `input`. */
  | { type: 'onnx'; path: string }
  /** A zoo preset with a .pth / safetensors checkpoint. */
  | { type: 'preset'; preset: string; weights: string };

/**
 * OBProx-SG's penalty: element-wise L1 (the paper's), group lasso over output channels, or (EDSR
 * only) 'coupled': one group per feature channel (every row writing it) and one per residual block.
 */
export type OBProxPenalty = 'l1' | 'group' | 'coupled';

export interface TrainConfig {
  /** The preset name the model came from, when it did (recorded in the model card). */
  preset?: string;
  model: ModelConfig;
  /** Training images: a folder of HR images (LR made by bicubic) or of NAME_HR/NAME_LR pairs. */
  data: { dir: string; kind: 'hr' | 'paired'; limit?: number };
  /** Benchmark folder (NAME_HR/NAME_LR pairs) scored every `interval` steps on the EMA weights. */
  val?: { dir: string; interval: number; limit?: number };
  steps: number;
  batch: number;
  /** LR patch side. */
  patch: number;
  seed: number;
  augment: boolean;
  /** Adam/AdamW, or OBProx-SG (L1- or group-regularised SGD for pruning; its optimizer comes from engine/compress). */
  optim: (AdamConfig | (OBProxSettings & { penalty: OBProxPenalty })) & { lr: number };
  /** Start from these weights instead of the from-scratch init (fine-tuning, pruning a teacher). */
  init?: InitWeights;
  /** Photo degradation of the LR inputs (blur, noise, JPEG), targets clean: the photo variants. */
  degrade?: DegradeConfig;
  schedule: ScheduleConfig;
  warmup: number;
  /** Max global gradient norm; 0 disables clipping. */
  gradClip: number;
  emaDecay: number;
  loss: LossConfig;
  teacher?: TeacherConfig;
  /** Steps between checkpoints (and at the end). */
  checkpointInterval: number;
  /** Disk cache for decoded images and teacher outputs (made absolute; default `.cache/minisr` under the working directory). */
  cacheDir: string;
  /** Prepare batches in a worker thread. */
  worker: boolean;
  /** ORT intra-op threads (0: all cores). */
  threads: number;
  /**
   * Execution provider for the training step, the teacher pass and validation. `auto` tries the
   * GPU providers first (a trial step decides) and falls back to the CPU.
   */
  ep: EpChoice;
  /**
   * Where Adam and the EMA run: `host` (the step returns gradients; optim.ts updates), `graph`
   * (inside the step graph, parameters and optimizer state kept on the device between steps:
   * update-graph.ts, resident-step.ts), `auto` (graph on a GPU provider, host on the CPU).
   */
  update: UpdateChoice;
}

export type UpdateChoice = 'auto' | 'host' | 'graph';

/** A checkpoint (.pth / safetensors) in the model's key layout; `preset`, when given, must be the model's preset. */
export interface InitWeights {
  weights: string;
  preset?: string;
  /**
   * Take only the tensors whose key and shape match and initialise the rest fresh: EDSR's recipe
   * of starting an x3/x4 network from the x2 one (the upsampler differs). Off: every key must match.
   */
  partial?: boolean;
}

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${field} must be an object, got ${JSON.stringify(v)}`);
  return v as Json;
}

function int(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new RangeError(`${field} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown, field: string, min: number, max = Infinity, minOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minOpen && v === min) || v > max) {
    throw new RangeError(`${field} must be a number in ${minOpen ? '(' : '['}${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${field} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

const KNOWN = new Set([
  'preset',
  'model',
  'data',
  'val',
  'steps',
  'batch',
  'patch',
  'seed',
  'augment',
  'optim',
  'schedule',
  'warmup',
  'gradClip',
  'emaDecay',
  'loss',
  'teacher',
  'checkpointInterval',
  'cacheDir',
  'worker',
  'threads',
  'ep',
  'update',
  'init',
  'degrade',
]);

function updateChoice(v: unknown, optim: string): UpdateChoice {
  if (v !== 'auto' && v !== 'host' && v !== 'graph') throw new TypeError(`update must be auto, host or graph, got ${JSON.stringify(v)}`);
  if (v === 'graph' && optim === 'obprox') throw new TypeError('update graph needs optim.type adam or adamw (OBProx-SG runs on the host)');
  return v;
}

function epChoice(v: unknown): EpChoice {
  if (!EP_CHOICES.includes(v as EpChoice)) throw new TypeError(`ep must be ${EP_CHOICES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as EpChoice;
}

function validateLoss(v: unknown): LossConfig {
  const o = obj(v, 'loss');
  switch (o.type) {
    case 'l1':
    case 'mse':
      return { type: o.type };
    case 'charbonnier':
      return { type: 'charbonnier', eps: num(o.eps ?? 1e-3, 'loss.eps', 0, Infinity, true) };
    case 'distill': {
      const levelWeights = o.levelWeights ?? 'paper';
      if (!isLevelWeights(levelWeights))
        throw new TypeError(`loss.levelWeights must be ${LEVEL_WEIGHTS.join(' or ')}, got ${JSON.stringify(levelWeights)}`);
      return { type: 'distill', hrWeight: num(o.hrWeight ?? 0.1, 'loss.hrWeight', 0), levelWeights };
    }
    default:
      throw new TypeError(`loss.type must be l1, mse, charbonnier or distill, got ${JSON.stringify(o.type)}`);
  }
}

function validateTeacher(v: unknown): TeacherConfig {
  const o = obj(v, 'teacher');
  if (o.type === 'onnx') return { type: 'onnx', path: str(o.path, 'teacher.path') };
  if (o.type === 'preset') {
    const preset = str(o.preset, 'teacher.preset');
    if (!isPresetName(preset)) presetConfig(preset); // throws listing the known presets
    return { type: 'preset', preset, weights: str(o.weights, 'teacher.weights') };
  }
  throw new TypeError(`teacher.type must be onnx or preset, got ${JSON.stringify(o.type)}`);
}

const ADAM_FIELDS = ['betas', 'eps', 'weightDecay'];
const OBPROX_FIELDS = ['lambda', 'proxSteps', 'orthantSteps', 'penalty'];

function validateOptim(o: Json, steps: number, model: ModelConfig): TrainConfig['optim'] {
  const type = o.type ?? 'adam';
  const lr = num(o.lr ?? 2e-4, 'optim.lr', 0, Infinity, true);
  const known = new Set(['type', 'lr', ...(type === 'obprox' ? OBPROX_FIELDS : ADAM_FIELDS)]);
  if (type !== 'adam' && type !== 'adamw' && type !== 'obprox')
    throw new TypeError(`optim.type must be adam, adamw or obprox, got ${JSON.stringify(type)}`);
  for (const k of Object.keys(o))
    if (!known.has(k)) throw new TypeError(`optim.${k} does not apply to optim.type ${type}; its fields: ${[...known].join(', ')}`);
  if (type === 'obprox') {
    if (o.lambda === undefined) throw new TypeError('optim.lambda (the penalty weight) is required for optim.type obprox');
    const proxSteps = int(o.proxSteps ?? Math.ceil(steps / 2), 'optim.proxSteps', 1);
    const penalty = o.penalty ?? 'l1';
    if (penalty !== 'l1' && penalty !== 'group' && penalty !== 'coupled')
      throw new TypeError(`optim.penalty must be l1, group or coupled, got ${JSON.stringify(penalty)}`);
    if (penalty === 'coupled' && model.family !== 'edsr')
      throw new TypeError(
        `optim.penalty coupled applies to EDSR models only (its groups are EDSR's feature channels and residual blocks), not ${model.family}`,
      );
    return {
      type,
      lr,
      lambda: num(o.lambda, 'optim.lambda', 0),
      proxSteps,
      orthantSteps: int(o.orthantSteps ?? 0, 'optim.orthantSteps', 0),
      penalty,
    };
  }
  const betas = o.betas ?? [0.9, 0.99];
  if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError(`optim.betas must be two numbers, got ${JSON.stringify(betas)}`);
  return {
    type,
    lr,
    betas: [num(betas[0], 'optim.betas[0]', 0, 0.999999), num(betas[1], 'optim.betas[1]', 0, 0.999999)],
    eps: num(o.eps ?? 1e-8, 'optim.eps', 0, Infinity, true),
    weightDecay: num(o.weightDecay ?? 0, 'optim.weightDecay', 0),
  };
}

function validateInit(v: unknown, model: ModelConfig): InitWeights {
  const o = obj(v, 'init');
  for (const k of Object.keys(o))
    if (k !== 'weights' && k !== 'preset' && k !== 'partial')
      throw new TypeError(`unknown field init.${k}; known: weights, preset, partial`);
  const weights = str(o.weights, 'init.weights');
  const partial = o.partial === undefined ? {} : { partial: bool(o.partial, 'init.partial') };
  if (o.preset === undefined) return { weights, ...partial };
  const preset = str(o.preset, 'init.preset');
  if (JSON.stringify(presetConfig(preset, { scale: resolveArch(model).scale })) !== JSON.stringify(model)) {
    throw new RangeError(`init.preset ${preset} is not the model being trained (${JSON.stringify(model)})`);
  }
  return { weights, preset, ...partial };
}

/** `"photo"` (the photo variants' settings) or { jpeg: [lo, hi], noise, blur, clean }. */
function validateDegrade(v: unknown): DegradeConfig {
  if (v === 'photo') return PHOTO_DEGRADE;
  const o = obj(v, 'degrade');
  for (const k of Object.keys(o))
    if (!['jpeg', 'noise', 'blur', 'clean'].includes(k)) throw new TypeError(`unknown field degrade.${k}; known: jpeg, noise, blur, clean`);
  const q = o.jpeg ?? PHOTO_DEGRADE.jpeg;
  if (!Array.isArray(q) || q.length !== 2) throw new TypeError(`degrade.jpeg must be [lowest, highest] quality, got ${JSON.stringify(q)}`);
  const lo = int(q[0], 'degrade.jpeg[0]', 1);
  const hi = int(q[1], 'degrade.jpeg[1]', lo);
  if (hi > 100) throw new RangeError(`degrade.jpeg[1] must be at most 100, got ${hi}`);
  return {
    jpeg: [lo, hi],
    noise: num(o.noise ?? PHOTO_DEGRADE.noise, 'degrade.noise', 0, 50),
    blur: num(o.blur ?? PHOTO_DEGRADE.blur, 'degrade.blur', 0, 5),
    ...(o.clean !== undefined && o.clean !== 0 ? { clean: num(o.clean, 'degrade.clean', 0, 1) } : {}),
  };
}

/** Checks a raw config and fills defaults; `model` may be given as `preset` (a zoo preset name) instead. */
export function validateTrainConfig(raw: unknown): TrainConfig {
  const o = obj(raw, 'config');
  for (const k of Object.keys(o))
    if (!KNOWN.has(k)) throw new TypeError(`unknown config field ${JSON.stringify(k)}; known: ${[...KNOWN].join(', ')}`);
  const preset = o.preset === undefined ? undefined : str(o.preset, 'preset');
  if (preset === undefined && o.model === undefined) throw new TypeError('config needs a model: give preset (e.g. "edsr-mini") or model');
  const model = o.model !== undefined ? validateConfig(o.model) : presetConfig(preset!);
  const data = obj(o.data, 'data');
  const kind = data.kind ?? 'hr';
  if (kind !== 'hr' && kind !== 'paired') throw new TypeError(`data.kind must be hr or paired, got ${JSON.stringify(kind)}`);
  const val = o.val === undefined ? undefined : obj(o.val, 'val');
  const steps = int(o.steps, 'steps', 1);
  const optim = validateOptim(obj(o.optim ?? {}, 'optim'), steps, model);
  // An average of weights is not sparse: pruning runs validate and export the weights themselves.
  if (optim.type === 'obprox' && o.emaDecay !== undefined && o.emaDecay !== 0)
    throw new RangeError(
      `emaDecay must be 0 with optim.type obprox (an average of sparse weights is not sparse), got ${JSON.stringify(o.emaDecay)}`,
    );
  const loss = validateLoss(o.loss ?? { type: 'l1' });
  const teacher = o.teacher === undefined ? undefined : validateTeacher(o.teacher);
  if (loss.type === 'distill' && !teacher) throw new TypeError('loss distill needs a teacher');
  if (teacher && loss.type !== 'distill') throw new TypeError(`a teacher is only used with loss distill, not ${loss.type}`);
  const cfg: TrainConfig = {
    ...(preset ? { preset } : {}),
    model,
    data: { dir: str(data.dir, 'data.dir'), kind, ...(data.limit !== undefined ? { limit: int(data.limit, 'data.limit', 1) } : {}) },
    ...(val
      ? {
          val: {
            dir: str(val.dir, 'val.dir'),
            interval: int(val.interval ?? 500, 'val.interval', 1),
            ...(val.limit !== undefined ? { limit: int(val.limit, 'val.limit', 1) } : {}),
          },
        }
      : {}),
    steps,
    batch: int(o.batch ?? 16, 'batch', 1),
    patch: int(o.patch ?? 48, 'patch', 1),
    seed: int(o.seed ?? 0, 'seed', 0),
    augment: bool(o.augment ?? true, 'augment'),
    optim,
    ...(o.init !== undefined ? { init: validateInit(o.init, model) } : {}),
    ...(o.degrade !== undefined ? { degrade: validateDegrade(o.degrade) } : {}),
    schedule: validateSchedule(o.schedule ?? { type: 'cosine', etaMin: 1e-7 }),
    warmup: int(o.warmup ?? 0, 'warmup', 0),
    gradClip: num(o.gradClip ?? 0, 'gradClip', 0),
    emaDecay: num(o.emaDecay ?? (optim.type === 'obprox' ? 0 : 0.999), 'emaDecay', 0, 0.999999),
    loss,
    ...(teacher ? { teacher } : {}),
    checkpointInterval: int(o.checkpointInterval ?? 1000, 'checkpointInterval', 1),
    cacheDir: path.resolve(str(o.cacheDir ?? '.cache/minisr', 'cacheDir')),
    worker: bool(o.worker ?? true, 'worker'),
    threads: int(o.threads ?? 0, 'threads', 0),
    ep: epChoice(o.ep ?? 'cpu'),
    update: updateChoice(o.update ?? 'auto', optim.type),
  };
  if (cfg.warmup > cfg.steps) throw new RangeError(`warmup (${cfg.warmup}) must not exceed steps (${cfg.steps})`);
  return cfg;
}
