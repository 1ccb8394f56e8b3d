import { buildTrainingGraph } from '../graph/autodiff';
import { Graph, type BuildTarget, type ConvWeightGrad } from '../graph/graph';
import { toOnnx } from '../graph/onnx';
import type { Shape, Value } from '../graph/value';
import { float32Tensor, type HostTensor } from '../io/tensor';
import { openSession, type EpReport, type OpenOptions } from '../runtime/select';
import type { ExecutionProvider, ModelSession } from '../runtime/session';
import { resolveArch, type ModelConfig } from '../zoo/registry';
import type { Batch } from './crops';
import { batchFeeds, GraphStep } from './graph-step';
import { charbonnierLoss, distillationLoss, l1Loss, mseLoss, type LevelWeights } from './losses';

/**
 * The training step: one ONNX graph holding forward + loss + backward (engine/graph/autodiff),
 * parameters fed as inputs, run in one onnxruntime session. The trainer only sees `TrainStep`,
 * so any feeds -> {loss, grads} implementation (tests use hand-written ones) plugs in.
 */

export type LossConfig =
  | { type: 'l1' }
  | { type: 'mse' }
  | { type: 'charbonnier'; eps: number }
  /** The paper's MultiLap(student, teacher) + hrWeight * L1(student, HR); levelWeights 'paper' is 2^i per pyramid level. */
  | { type: 'distill'; hrWeight: number; levelWeights: LevelWeights };

export interface StepResult {
  loss: number;
  grads: Map<string, Float32Array>;
}

export interface TrainStep {
  /** Keys of the learnable parameters, whose gradients `run` returns. */
  readonly paramKeys: readonly string[];
  readonly paramShapes: ReadonlyMap<string, Shape>;
  /** The provider running the step (absent: the CPU). */
  readonly ep?: ExecutionProvider;
  run(params: ReadonlyMap<string, Float32Array>, batch: Batch): Promise<StepResult>;
  release(): Promise<void>;
}

export interface StepShape {
  batch: number;
  /** LR patch side. */
  patch: number;
}

export interface TrainGraphBytes {
  onnx: Uint8Array;
  paramKeys: string[];
  paramShapes: Map<string, Shape>;
  usesTeacher: boolean;
  target: BuildTarget;
}

/** `target`: layout choices for the device that runs the step (engine/graph/graph.ts `BuildTarget`). */
export function buildTrainGraph(
  model: ModelConfig,
  loss: LossConfig,
  shape: StepShape,
  target: BuildTarget = 'cpu',
  convWeightGrad: ConvWeightGrad = 'matmul',
): TrainGraphBytes {
  const arch = resolveArch(model);
  const { batch: n, patch: p } = shape;
  if (p % arch.inputMultiple !== 0) throw new RangeError(`patch ${p} must be a multiple of ${arch.inputMultiple} for ${model.family}`);
  const P = p * arch.scale;
  const g = new Graph(`train-${model.family}`, target, convWeightGrad);
  const lr = g.input('lr', [n, 3, p, p]);
  const hr = g.input('hr', [n, 3, P, P]);
  const t = buildTrainingGraph(g, lossOf(g, loss, arch.build(g, lr), hr));
  return {
    onnx: toOnnx(g, { params: 'inputs' }),
    paramKeys: [...t.params],
    paramShapes: new Map([...g.params].map(([k, v]) => [k, v.value.shape])),
    usesTeacher: loss.type === 'distill',
    target,
  };
}

/** The scalar loss of `sr` against `hr` (and a `teacher` input for distillation), appended to `g`. */
export function lossOf(g: Graph, loss: LossConfig, sr: Value, hr: Value): Value {
  switch (loss.type) {
    case 'l1':
      return l1Loss(g, sr, hr);
    case 'mse':
      return mseLoss(g, sr, hr);
    case 'charbonnier':
      return charbonnierLoss(g, sr, hr, loss.eps);
    case 'distill':
      return distillationLoss(g, sr, g.input('teacher', hr.shape), hr, loss.hrWeight, loss.levelWeights);
  }
}

/** Runs a training graph made by `buildTrainGraph` (or any graph with the same interface). */
export class OnnxTrainStep extends GraphStep<TrainGraphBytes> implements TrainStep {
  private constructor(
    private readonly session: ModelSession,
    built: TrainGraphBytes,
    shape: StepShape,
    scale: number,
    epReport: EpReport,
  ) {
    super(built, shape, scale, epReport);
  }

  /**
   * Opens the step on `opts.ep` (default cpu). A GPU provider first runs one trial step on zeros:
   * providers often create a session fine and fail at the first kernel, and with `auto` that
   * failure moves the step on to the next provider instead of failing the run at step 1. The
   * graph is laid out for a GPU unless the CPU runs it (rebuilt when `auto` ends on the CPU).
   */
  static async create(model: ModelConfig, loss: LossConfig, shape: StepShape, opts: OpenOptions = {}): Promise<OnnxTrainStep> {
    const scale = resolveArch(model).scale;
    const ep = opts.ep ?? 'cpu';
    const target: BuildTarget = ep === 'cpu' ? 'cpu' : 'gpu';
    let built = buildTrainGraph(model, loss, shape, target);
    const probe = ep === 'cpu' ? undefined : zeroFeeds(built, shape, scale);
    const opened = await openSession(built.onnx, { ...opts, ep, ...(probe ? { probe } : {}) });
    const report = opened.report;
    let session = opened.session;
    if (report.used === 'cpu' && target === 'gpu') {
      await session.release();
      built = buildTrainGraph(model, loss, shape, 'cpu');
      session = (await openSession(built.onnx, { ...opts, ep: 'cpu' })).session;
    }
    return new OnnxTrainStep(session, built, shape, scale, report);
  }

  async run(params: ReadonlyMap<string, Float32Array>, batch: Batch): Promise<StepResult> {
    const feeds = batchFeeds(this.built, this.shape, this.scale, batch);
    for (const [key, shape] of this.built.paramShapes) {
      const data = params.get(key);
      if (!data) throw new Error(`no value for parameter ${key}`);
      feeds[key] = float32Tensor(shape, data);
    }
    const out = await this.session.run(feeds);
    const grads = new Map<string, Float32Array>();
    for (const key of this.built.paramKeys) grads.set(key, out[`grad.${key}`]!.data as Float32Array);
    return { loss: (out.loss!.data as Float32Array)[0]!, grads };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function zeroFeeds(built: TrainGraphBytes, shape: StepShape, scale: number): Record<string, HostTensor> {
  const feeds = batchFeeds(built, shape, scale);
  for (const [key, s] of built.paramShapes) feeds[key] = float32Tensor(s);
  return feeds;
}
