import { gradients } from '../graph/autodiff';
import { Graph, type BuildTarget, type ConvWeightGrad } from '../graph/graph';
import { toOnnx } from '../graph/onnx';
import type { Shape, Value } from '../graph/value';
import { resolveArch, type ModelConfig } from '../zoo/registry';
import type { AdamConfig } from './optim';
import { buildTrainGraph, lossOf, type LossConfig, type StepShape } from './train-graph';

/**
 * The whole training step as one ONNX graph: forward + loss + backward, then gradient clipping,
 * Adam (PyTorch's formulas, as `Adam.step` in optim.ts) and the EMA update, so one run takes
 * (parameters, moments, EMA, batch, per-step scalars) and returns the updated ones and the loss.
 * A GPU keeps that state in device memory between runs (resident-step.ts): nothing but the batch
 * goes up and the loss comes down. All learnable parameters live in one flat vector (declaration
 * order, each row-major), so the update is a handful of large element-wise kernels instead of a
 * dozen small ones per tensor; the forward pass gets each parameter as a Split piece reshaped.
 */

/** Flat state inputs and the outputs that replace them after the step, in this order. */
export const STATE = ['params', 'adam.m', 'adam.v', 'ema'] as const;
export type StateName = (typeof STATE)[number];
export const nextName = (s: StateName) => `next.${s}`;

/** Scalar inputs of one step, computed on the host from the step counter and the LR schedule. */
export interface UpdateScalars {
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  bc2Sqrt: number;
  /** AdamW's 1 - lr * weightDecay (1 for Adam). */
  decay: number;
  /** The EMA decay d of this step (ema = d ema + (1 - d) params). */
  emaDecay: number;
}
export const SCALAR_INPUTS: Record<keyof UpdateScalars, string> = {
  stepSize: 'adam.step_size',
  bc2Sqrt: 'adam.bc2_sqrt',
  decay: 'adam.decay',
  emaDecay: 'ema.decay',
};

export interface UpdateSettings {
  adam: AdamConfig;
  /** Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_); 0: none. */
  gradClip: number;
  /** How the backward pass builds conv weight gradients (engine/graph/graph.ts); default `matmul`. */
  convWeightGrad?: ConvWeightGrad;
}

export interface UpdateGraphBytes {
  onnx: Uint8Array;
  /** Learnable parameter keys in flat order, with their shapes. */
  paramKeys: string[];
  paramShapes: Map<string, Shape>;
  /** Elements of each flat state vector. */
  size: number;
  /** Scalar inputs fed every step (SCALAR_INPUTS; AdamW's decay only for AdamW). */
  scalarInputs: string[];
  usesTeacher: boolean;
  target: BuildTarget;
}

/** A Graph whose `param(key)` is a piece of one flat `params` input (keys and shapes known up front). */
class FlatParamGraph extends Graph {
  readonly flat: Value;
  private pieces: Map<string, Value> | undefined;

  constructor(
    name: string,
    target: BuildTarget,
    private readonly layout: ReadonlyMap<string, Shape>,
    size: number,
    convWeightGrad: ConvWeightGrad,
  ) {
    super(name, target, convWeightGrad);
    this.flat = this.input('params', [size]);
  }

  override param(key: string, shape: Shape): Value {
    if (!this.pieces) {
      const shapes = [...this.layout.values()];
      const parts = this.split(
        this.flat,
        shapes.map((s) => numel(s)),
        0,
      );
      // 1-D parameters (biases) are their pieces: no Reshape there or in the backward pass
      this.pieces = new Map(
        [...this.layout.keys()].map((k, i) => [k, shapes[i]!.length === 1 ? parts[i]! : this.reshape(parts[i]!, shapes[i]!)]),
      );
    }
    const want = this.layout.get(key);
    if (!want || want.length !== shape.length || want.some((d, i) => d !== shape[i]))
      throw new Error(`parameter ${key} [${shape.join(', ')}] is not in the flat layout`);
    return this.pieces.get(key)!;
  }
}

const numel = (s: Shape) => s.reduce((a, b) => a * b, 1);

export function buildUpdateGraph(
  model: ModelConfig,
  loss: LossConfig,
  shape: StepShape,
  settings: UpdateSettings,
  target: BuildTarget = 'cpu',
): UpdateGraphBytes {
  // The plain step graph names the learnable parameters and their shapes in declaration order.
  const plain = buildTrainGraph(model, loss, shape, target);
  if (plain.paramKeys.length !== plain.paramShapes.size) throw new Error('the in-graph update needs every parameter learnable');
  const layout = new Map(plain.paramKeys.map((k) => [k, plain.paramShapes.get(k)!]));
  const size = [...layout.values()].reduce((a, s) => a + numel(s), 0);

  const arch = resolveArch(model);
  const { batch: n, patch: p } = shape;
  const P = p * arch.scale;
  const g = new FlatParamGraph(`train-update-${model.family}`, target, layout, size, settings.convWeightGrad ?? 'matmul');
  const lr = g.input('lr', [n, 3, p, p]);
  const hr = g.input('hr', [n, 3, P, P]);
  const value = lossOf(g, loss, arch.build(g, lr), hr);
  let grad = gradients(g, value, [g.flat]).get(g.flat)!;

  const { adam, gradClip } = settings;
  const [b1, b2] = adam.betas;
  const input = (s: StateName) => (s === 'params' ? g.flat : g.input(s, [size]));
  const [m, v, ema] = [input('adam.m'), input('adam.v'), input('ema')];
  const scalar = (k: keyof UpdateScalars) => g.input(SCALAR_INPUTS[k], []);
  const [stepSize, bc2Sqrt, emaDecay] = [scalar('stepSize'), scalar('bc2Sqrt'), scalar('emaDecay')];
  const decay = adam.type === 'adamw' ? scalar('decay') : undefined;
  const c = (x: number) => g.scalar(x);
  g.scope('update', () => {
    if (gradClip > 0) {
      // clip_grad_norm_: scale by maxNorm / (norm + 1e-6) when that is below 1
      const norm = g.sqrt(g.reduceSum(g.mul(grad, grad), undefined, false));
      grad = g.mul(grad, g.op1('Min', [c(1), g.div(c(gradClip), g.add(norm, c(1e-6)))]));
    }
    if (adam.type === 'adam' && adam.weightDecay > 0) grad = g.add(grad, g.mul(c(adam.weightDecay), g.flat));
    const m1 = g.add(g.mul(c(b1), m), g.mul(c(1 - b1), grad));
    const v1 = g.add(g.mul(c(b2), v), g.mul(g.mul(c(1 - b2), grad), grad));
    const denom = g.add(g.div(g.sqrt(v1), bc2Sqrt), c(adam.eps));
    const kept = decay ? g.mul(g.flat, decay) : g.flat;
    const p1 = g.sub(kept, g.div(g.mul(stepSize, m1), denom));
    const e1 = g.add(g.mul(emaDecay, ema), g.mul(g.sub(c(1), emaDecay), p1));
    g.output(value, 'loss');
    const next: Record<StateName, Value> = { params: p1, 'adam.m': m1, 'adam.v': v1, ema: e1 };
    for (const s of STATE) g.output(next[s], nextName(s));
  });
  return {
    onnx: toOnnx(g, { params: 'inputs' }),
    paramKeys: plain.paramKeys,
    paramShapes: layout,
    size,
    scalarInputs: Object.values(SCALAR_INPUTS).filter((name) => g.inputs.some((v) => v.name === name)),
    usesTeacher: plain.usesTeacher,
    target,
  };
}

/** Per-key tensors -> one flat vector in the layout's order. */
export function flatten(layout: ReadonlyMap<string, Shape>, size: number, set: ReadonlyMap<string, Float32Array>): Float32Array {
  const out = new Float32Array(size);
  let offset = 0;
  for (const [k, s] of layout) {
    const t = set.get(k);
    if (!t || t.length !== numel(s)) throw new RangeError(`no tensor of ${numel(s)} values for ${k}`);
    out.set(t, offset);
    offset += t.length;
  }
  return out;
}

/** A flat vector -> the per-key tensors of `into`, overwritten in place. */
export function unflattenInto(layout: ReadonlyMap<string, Shape>, flat: Float32Array, into: Map<string, Float32Array>): void {
  let offset = 0;
  for (const [k, s] of layout) {
    const len = numel(s);
    const t = into.get(k);
    if (t) t.set(flat.subarray(offset, offset + len));
    else into.set(k, flat.slice(offset, offset + len));
    offset += len;
  }
}
