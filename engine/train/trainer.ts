import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Shape } from '../graph/value';
import { float32Tensor, type StateDict } from '../io/tensor';
import { saveSafetensors } from '../io/checkpoint';
import { writeCard } from '../zoo/card';
import { exportModel } from '../zoo/export';
import { readFile, writeFile } from 'node:fs/promises';
import { weightsFromOnnx } from '../zoo/infer';
import { BatchSource } from './batch-source';
import type { TrainConfig } from './config';
import type { TrainImage } from './crops';
import { loadHrFolder, loadPairedFolder } from './dataset';
import { Events } from './events';
import { degradeBatch } from './degrade';
import { initParams } from './init';
import {
  Adam,
  ADAM_BUFFERS,
  adamScalars,
  clipGradNorm,
  copyParams,
  Ema,
  type OBProxSettings,
  type Optimizer,
  type OptimizerState,
  type ParamSet,
} from './optim';
import { loadStateDict } from '../io/checkpoint';
import { bindWeights } from '../zoo/build';
import { loadLatestCheckpoint, saveCheckpoint, writeRunConfig, type TrainHistory, type TrainState } from './run-dir';
import { learningRate, type LrPlan } from './schedule';
import { attachTeacherOutputs } from './teacher';
import { ResidentTrainStep } from './resident-step';
import { OnnxTrainStep, type TrainStep } from './train-graph';
import { Validator, type ValidationResult } from './validate';
import { resolveArch } from '../zoo/registry';
import { describeEpReport } from '../runtime/select';

/**
 * The training loop (BasicSR's shape: feed data, optimise, update the LR, validate and save at
 * set intervals), with everything else in its own module: data (dataset/crops/batch-source),
 * the step (train-graph), the optimizer and schedule, checkpoints (run-dir), validation and
 * export. Progress goes out as typed events for the CLI, web mode and Electron alike; an
 * AbortSignal stops it (saving a checkpoint), pause()/resume() hold it between steps.
 */

export interface ProgressEvent {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  loss: number;
  stepsPerSec: number;
  etaSec: number;
  lastValPsnr: number | undefined;
  lr: number;
}

export type TrainPhase =
  'loading-data' | 'teacher-cache' | 'building-graph' | 'training' | 'paused' | 'validating' | 'exporting' | 'done' | 'aborted';

export interface TrainEvents {
  progress: ProgressEvent;
  status: { phase: TrainPhase; detail?: string };
  validation: { step: number; psnr: number; ssim: number };
  checkpoint: { step: number; path: string };
}

export interface TrainResult {
  /** Steps completed (== config.steps unless aborted or time-limited). */
  step: number;
  aborted: boolean;
  history: TrainHistory;
  finalValidation?: ValidationResult;
  exported?: { onnx: string; card: string; weights: string };
  /** Stopped early by `maxSeconds` (validated, checkpointed and exported all the same). */
  timeLimited?: boolean;
}

export interface TrainerOptions {
  /** Continue from the run folder's latest checkpoint (it must hold the same config). */
  resume?: boolean;
  /** Export the EMA weights (ONNX + model card) when training completes. Default true. */
  export?: boolean;
  /**
   * Wall-clock budget in seconds from run() (data, teacher cache and graph build included): the
   * first step that ends past it is the last, then the run validates, checkpoints and exports as
   * if finished (`timeLimited` in the result), so a lent machine's fixed time still yields a model.
   */
  maxSeconds?: number;
  /** Replaces the ONNX training step (tests). */
  makeStep?: (config: TrainConfig) => Promise<TrainStep>;
  /** The OBProx-SG optimizer for `optim.type: 'obprox'` (engine/compress's `makeOBProx`: it lives in a layer above this one). */
  obprox?: OptimizerFactory<OBProxSettings>;
}

export type OptimizerFactory<S> = (settings: S, params: ParamSet, shapes: ReadonlyMap<string, Shape>, saved?: OptimizerState) => Optimizer;

/**
 * The `init` weights for the learnable keys, copied (the loaded buffers may be views into the
 * file). Partial: the keys the checkpoint lacks (or holds at another shape) start fresh; `fresh`
 * names them.
 */
async function initWeights(
  cfg: TrainConfig,
  keys: readonly string[],
  shapes: ReadonlyMap<string, Shape>,
): Promise<{ params: ParamSet; fresh: string[] }> {
  const file = cfg.init!.weights;
  // An exported model carries its weights: fine-tune a shipped .onnx (e.g. the photo variants).
  const sd = /\.onnx$/i.test(file)
    ? weightsFromOnnx(await readFile(file), cfg.model, { partial: cfg.init!.partial === true })
    : await loadStateDict(file);
  if (!cfg.init!.partial) {
    const bound = bindWeights(cfg.model, sd);
    return { params: new Map(keys.map((k) => [k, Float32Array.from(bound.get(k)!.data as Float32Array)])), fresh: [] };
  }
  const scratch = initParams(cfg.model.family, shapes, cfg.seed);
  const params: ParamSet = new Map();
  const fresh: string[] = [];
  for (const k of keys) {
    const t = sd.get(k);
    const same = t && t.dtype === 'float32' && t.shape.length === shapes.get(k)!.length && t.shape.every((d, i) => d === shapes.get(k)![i]);
    if (same) params.set(k, Float32Array.from(t.data as Float32Array));
    else {
      params.set(k, scratch.get(k)!);
      fresh.push(k);
    }
  }
  if (fresh.length === keys.length) throw new Error(`init ${cfg.init!.weights}: no tensor matches the model (key and shape)`);
  return { params, fresh };
}

/** EMA decay ramps up over the first steps ((1 + t) / (10 + t), as TensorFlow's num_updates does) so short runs are not dominated by the initial weights. */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

export class Trainer {
  readonly events = new Events<TrainEvents>();
  private paused: { promise: Promise<void>; release: () => void } | undefined;

  constructor(
    readonly config: TrainConfig,
    readonly outDir: string,
    private readonly opts: TrainerOptions = {},
  ) {}

  on<K extends keyof TrainEvents>(event: K, cb: (payload: TrainEvents[K]) => void): () => void {
    return this.events.on(event, cb);
  }

  /** Holds the loop before its next step until resume(). */
  pause(): void {
    if (this.paused) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.paused = { promise, release };
  }

  resume(): void {
    const p = this.paused;
    this.paused = undefined;
    p?.release();
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  async run(signal?: AbortSignal): Promise<TrainResult> {
    const started = performance.now();
    const cfg = this.config;
    const arch = resolveArch(cfg.model);
    const scale = arch.scale;
    const status = (phase: TrainPhase, detail?: string) => this.events.emit('status', detail === undefined ? { phase } : { phase, detail });
    if (!this.opts.resume && existsSync(path.join(this.outDir, 'latest.json'))) {
      throw new Error(
        `${this.outDir} already holds a training run with checkpoints: resume it (--resume ${this.outDir}) or choose another folder`,
      );
    }
    await writeRunConfig(this.outDir, cfg);

    status('loading-data', cfg.data.dir);
    let images: TrainImage[] =
      cfg.data.kind === 'hr'
        ? await loadHrFolder(cfg.data.dir, { scale, cacheDir: cfg.cacheDir, ...(cfg.data.limit ? { limit: cfg.data.limit } : {}) })
        : (await loadPairedFolder(cfg.data.dir, scale)).images.slice(0, cfg.data.limit);
    // Images smaller than the LR patch cannot be cropped (T91 has a few 78x78 ones): leave them out.
    const usable = images.filter((im) => im.width >= cfg.patch && im.height >= cfg.patch);
    if (usable.length === 0)
      throw new RangeError(`no training image is at least ${cfg.patch}x${cfg.patch} pixels (LR): lower the patch size`);
    if (usable.length < images.length)
      status(
        'loading-data',
        `${images.length - usable.length} of ${images.length} images are smaller than the ${cfg.patch}px LR patch and are skipped`,
      );
    images = usable;
    if (cfg.teacher) {
      status('teacher-cache', 'running the teacher once per training image (cached)');
      images = await attachTeacherOutputs(images, cfg.teacher, {
        cacheDir: cfg.cacheDir,
        scale,
        session: { threads: cfg.threads },
        ep: cfg.ep,
        onProgress: (done, total, computed) => status('teacher-cache', `${done}/${total} images, ${computed} computed`),
      });
    }
    const valImages = cfg.val ? (await loadPairedFolder(cfg.val.dir, scale)).images.slice(0, cfg.val.limit) : undefined;

    status('building-graph');
    const step = await this.makeStep();
    const ep = step.ep ?? 'cpu';
    if ((step instanceof OnnxTrainStep || step instanceof ResidentTrainStep) && cfg.ep !== 'cpu')
      status(
        'building-graph',
        `training on ${ep}, ${step instanceof ResidentTrainStep ? 'Adam and EMA in the step graph' : 'Adam and EMA on the host'} (${describeEpReport(step.epReport).join('; ')})`,
      );
    // Validation runs where the step runs: a provider that ran the whole training graph runs the forward pass too.
    const validator = valImages ? new Validator(cfg.model, valImages, { threads: cfg.threads, ep }) : undefined;
    const source = new BatchSource(
      images,
      { batch: cfg.batch, patch: cfg.patch, scale, augment: cfg.augment, seed: cfg.seed },
      { worker: cfg.worker, prefetch: 2 },
    );

    try {
      return await this.loop(step, source, validator, signal, started);
    } finally {
      await source.close();
      await step.release();
      await validator?.release();
    }
  }

  /**
   * The step: the in-graph update when `update` asks for it (`auto`: on a GPU provider, where it
   * saves the per-step copies), else the plain step graph with Adam and the EMA on the host.
   */
  private async makeStep(): Promise<TrainStep | ResidentTrainStep> {
    const c = this.config;
    const shape = { batch: c.batch, patch: c.patch };
    const open = { threads: c.threads, ep: c.ep };
    if (this.opts.makeStep) return this.opts.makeStep(c);
    const o = c.optim;
    if (o.type !== 'obprox' && (c.update === 'graph' || (c.update === 'auto' && c.ep !== 'cpu'))) {
      const { type, betas, eps, weightDecay } = o;
      const rs = await ResidentTrainStep.create(
        c.model,
        c.loss,
        shape,
        { adam: { type, betas, eps, weightDecay }, gradClip: c.gradClip },
        open,
      );
      if (c.update === 'graph' || rs.ep !== 'cpu') return rs;
      await rs.release(); // auto ended on the CPU: the host update there
      return OnnxTrainStep.create(c.model, c.loss, shape, { ...open, ep: 'cpu' });
    }
    return OnnxTrainStep.create(c.model, c.loss, shape, open);
  }

  private async loop(
    ts: TrainStep | ResidentTrainStep,
    source: BatchSource,
    validator: Validator | undefined,
    signal: AbortSignal | undefined,
    started: number,
  ): Promise<TrainResult> {
    const cfg = this.config;
    const keys = ts.paramKeys;
    const shapes: ReadonlyMap<string, Shape> = ts.paramShapes;
    const learnableShapes = new Map(keys.map((k) => [k, shapes.get(k)!]));

    const ck = this.opts.resume
      ? await loadLatestCheckpoint(this.outDir, keys, cfg.optim.type === 'obprox' ? [] : ADAM_BUFFERS)
      : undefined;
    const init = !ck && cfg.init ? await initWeights(cfg, keys, learnableShapes) : undefined;
    const params: ParamSet = ck?.params ?? init?.params ?? initParams(cfg.model.family, learnableShapes, cfg.seed);
    const ema = new Ema(cfg.emaDecay, params, ck?.ema ?? copyParams(params));
    const opt = this.optimizer(params, learnableShapes, ck ? { step: ck.state.adamStep, buffers: ck.buffers } : undefined);
    const history: TrainHistory = ck
      ? { loss: ck.state.history.loss.slice(0, ck.state.step), val: ck.state.history.val.filter((v) => v.step <= ck.state.step) }
      : { loss: [], val: [] };
    let done = ck?.state.step ?? 0;
    let elapsed = ck?.state.elapsedSec ?? 0;
    const plan: LrPlan = { baseLr: cfg.optim.lr, totalSteps: cfg.steps, warmup: cfg.warmup, schedule: cfg.schedule };

    const state = (): TrainState => ({
      step: done,
      adamStep: opt.stepCount,
      seed: cfg.seed,
      rng: { seed: cfg.seed, scheme: 'sfc32(seed, stream, step)' },
      nextLr: learningRate(plan, done),
      history,
      elapsedSec: elapsed,
    });
    // The in-graph update keeps the state on the device: read it back before anything uses it on the host.
    const resident = ts instanceof ResidentTrainStep ? ts : undefined;
    const adam = resident ? opt : undefined;
    if (adam && !(adam instanceof Adam)) throw new Error('the in-graph update runs Adam or AdamW only');
    const hostState = () => ({ params, 'adam.m': (opt as Adam).state.m, 'adam.v': (opt as Adam).state.v, ema: ema.weights });
    resident?.load(hostState());
    let stale = false;
    const sync = async () => {
      if (resident && stale) await resident.readInto(hostState());
      stale = false;
    };
    const checkpoint = async () => {
      await sync();
      const p = await saveCheckpoint(this.outDir, { state: state(), params, ema: ema.weights, buffers: opt.buffers() }, shapes);
      this.events.emit('checkpoint', { step: done, path: p });
    };
    const validate = async () => {
      await sync();
      this.events.emit('status', { phase: 'validating' });
      const r = await validator!.evaluate(ema.weights);
      history.val.push({ step: done, psnr: r.psnr, ssim: r.ssim });
      this.events.emit('validation', { step: done, psnr: r.psnr, ssim: r.ssim });
      return r;
    };

    this.events.emit('status', {
      phase: 'training',
      detail: ck
        ? `resumed at step ${done}`
        : init
          ? `from ${cfg.init!.weights}${init.fresh.length ? ` (fresh: ${init.fresh.join(', ')})` : ''}`
          : 'from scratch',
    });
    const window: number[] = []; // recent step durations (s) for steps/s
    let last: ValidationResult | undefined;
    const limit = this.opts.maxSeconds;
    let timeLimited = false;
    while (done < cfg.steps) {
      if (this.paused) {
        this.events.emit('status', { phase: 'paused' });
        await this.paused.promise;
        this.events.emit('status', { phase: 'training' });
      }
      if (signal?.aborted) {
        await checkpoint();
        this.events.emit('status', { phase: 'aborted', detail: `checkpoint at step ${done}` });
        return { step: done, aborted: true, history };
      }
      const t0 = performance.now();
      const clean = await source.get(done);
      const batch = cfg.degrade ? await degradeBatch(clean, cfg.patch, cfg.degrade, cfg.seed) : clean;
      const lr = learningRate(plan, done);
      const finite = (loss: number) => {
        if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${done}: lower the learning rate or enable gradClip`);
        return loss;
      };
      let loss: number;
      if (resident) {
        const a = opt as Adam;
        // the update is already applied on the device; a non-finite loss stops the run all the same
        loss = finite(
          await resident.run(batch, { ...adamScalars(a.config, a.state.step + 1, lr), emaDecay: emaDecayAt(cfg.emaDecay, done) }),
        );
        a.state.step++;
        stale = true;
      } else {
        const { loss: l, grads } = await (ts as TrainStep).run(params, batch);
        loss = finite(l);
        if (cfg.gradClip > 0) clipGradNorm(grads, cfg.gradClip);
        opt.step(params, grads, lr);
        ema.update(params, emaDecayAt(cfg.emaDecay, done));
      }
      history.loss.push(loss);
      done++;
      const dt = (performance.now() - t0) / 1000;
      elapsed += dt;
      window.push(dt);
      if (window.length > 20) window.shift();
      const stepsPerSec = window.length / window.reduce((a, b) => a + b, 0);
      const lastVal = history.val[history.val.length - 1];
      this.events.emit('progress', {
        step: done,
        totalSteps: cfg.steps,
        loss,
        stepsPerSec,
        etaSec: (cfg.steps - done) / stepsPerSec,
        lastValPsnr: lastVal?.psnr,
        lr,
      });
      timeLimited = limit !== undefined && done < cfg.steps && (performance.now() - started) / 1000 >= limit;
      const end = done === cfg.steps || timeLimited;
      if (validator && cfg.val && (done % cfg.val.interval === 0 || end)) last = await validate();
      if (done % cfg.checkpointInterval === 0 || end) await checkpoint();
      if (timeLimited) {
        this.events.emit('status', { phase: 'training', detail: `time limit of ${limit} s reached at step ${done} of ${cfg.steps}` });
        break;
      }
    }
    if (validator && !last) last = await validate(); // resumed at the end: score once anyway
    await sync();
    const result: TrainResult = {
      step: done,
      aborted: false,
      history,
      ...(last ? { finalValidation: last } : {}),
      ...(timeLimited ? { timeLimited } : {}),
    };
    if (this.opts.export !== false) {
      this.events.emit('status', { phase: 'exporting' });
      result.exported = await this.exportEma(ema.weights, shapes, last);
    }
    this.events.emit('status', { phase: 'done' });
    return result;
  }

  private optimizer(params: ParamSet, shapes: ReadonlyMap<string, Shape>, saved: OptimizerState | undefined): Optimizer {
    const o = this.config.optim;
    if (o.type === 'obprox') {
      if (!this.opts.obprox)
        throw new Error('optim.type obprox needs the OBProx-SG optimizer from engine/compress (run it as a prune job: minisr prune)');
      return this.opts.obprox(o, params, shapes, saved);
    }
    if (!saved) return new Adam(o, params);
    const [m, v] = ADAM_BUFFERS.map((b) => saved.buffers.get(b));
    if (!m || !v) throw new Error('the checkpoint holds no Adam moments (adam.m, adam.v)');
    return new Adam(o, params, { step: saved.step, m, v });
  }

  /** EMA weights -> `model.safetensors` (official key names), `model.onnx` and its card `model.json` with the measured validation scores. */
  private async exportEma(weights: ParamSet, shapes: ReadonlyMap<string, Shape>, val: ValidationResult | undefined) {
    const weightsPath = path.join(this.outDir, 'model.safetensors');
    const sd: StateDict = new Map([...weights].map(([k, d]) => [k, float32Tensor(shapes.get(k)!, d)]));
    await saveSafetensors(weightsPath, sd);
    const { onnx, card } = await exportModel({
      config: this.config.model,
      ...(this.config.preset ? { preset: this.config.preset } : {}),
      weightsPath,
    });
    const setName = this.config.val
      ? `${path.basename(path.dirname(path.resolve(this.config.val.dir)))}/${path.basename(this.config.val.dir)}`
      : undefined;
    const withMetrics = val && setName ? { ...card, metrics: { [setName]: { psnr: val.psnr, ssim: val.ssim, images: val.images } } } : card;
    const onnxPath = path.join(this.outDir, 'model.onnx');
    await writeFile(onnxPath, onnx);
    const cardPath = path.join(this.outDir, 'model.json');
    await writeCard(cardPath, withMetrics);
    return { onnx: onnxPath, card: cardPath, weights: weightsPath };
  }
}
