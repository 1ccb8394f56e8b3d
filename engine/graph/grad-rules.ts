import { numel } from '../io/tensor';
import type { Graph, Node } from './graph';
import { constInts, sliceRange } from './const-args';
import type { Attrs } from './ops';
import { normAxis, type Value } from './value';

/**
 * Gradient rules, one per op, referenced from the op table (ops.ts) beside each shape rule.
 * A rule gets the forward node, the gradient of each output (undefined: none flows there) and
 * the builder, and returns one gradient per input (undefined where `needs(i)` is false).
 * Rules emit default-domain ONNX ops only. A returned gradient may have any shape that
 * broadcasts to its input: the walker (autodiff.ts) sums broadcast axes away in one place.
 */

export interface GradArgs {
  readonly g: Graph;
  readonly node: Node;
  /** Gradient of each output; undefined where no gradient flows into that output. */
  readonly dY: readonly (Value | undefined)[];
  /** Whether input i needs a gradient (on a path from a wrt value, differentiable). */
  readonly needs: (i: number) => boolean;
}

export type GradRule = (a: GradArgs) => readonly (Value | undefined)[];

// ---- small helpers ----

const x = (n: Node, i = 0): Value => n.inputs[i]!;
const y = (n: Node, i = 0): Value => n.outputs[i]!;
const d0 = (a: GradArgs): Value => a.dY[0]!;
const when = (need: boolean, fn: () => Value): Value | undefined => (need ? fn() : undefined);

function intAttr(attrs: Attrs, key: string, dflt: number): number {
  const v = attrs[key];
  return typeof v === 'number' ? v : dflt;
}
function intsAttr(attrs: Attrs, key: string, dflt: readonly number[]): readonly number[] {
  const v = attrs[key];
  return Array.isArray(v) ? (v as readonly number[]) : dflt;
}
function strAttr(attrs: Attrs, key: string, dflt: string): string {
  const v = attrs[key];
  return typeof v === 'string' ? v : dflt;
}

/** Reverses a tensor along one axis (Slice with step -1). */
function flip(g: Graph, v: Value, axis: number): Value {
  return g.slice(v, [-1], [-(2 ** 62)], [axis], [-1]);
}

function inversePerm(perm: readonly number[]): number[] {
  const inv: number[] = new Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Sums `v` (any shape broadcasting to `shape`) down to `shape`: the walker's un-broadcast. */
export function unbroadcast(g: Graph, v: Value, shape: readonly number[]): Value {
  if (v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i])) return v;
  const lead = v.shape.length - shape.length;
  const axes: number[] = [];
  v.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  let out = axes.length ? g.reduceSum(v, axes, true) : v;
  if (numel(out.shape) < numel(shape)) out = g.expand(out, shape);
  if (numel(out.shape) !== numel(shape)) throw new RangeError(`gradient of shape [${v.shape}] cannot reduce to [${shape}]`);
  return out.shape.length === shape.length && out.shape.every((d, i) => d === shape[i]) ? out : g.reshape(out, shape);
}

// ---- element-wise ----

export const gradIdentity: GradRule = (a) => [d0(a)];
export const gradNeg: GradRule = (a) => [a.g.neg(d0(a))];
export const gradAdd: GradRule = (a) => [when(a.needs(0), () => d0(a)), when(a.needs(1), () => d0(a))];
export const gradSub: GradRule = (a) => [when(a.needs(0), () => d0(a)), when(a.needs(1), () => a.g.neg(d0(a)))];
export const gradMul: GradRule = ({ g, node, dY, needs }) => [
  when(needs(0), () => g.mul(dY[0]!, x(node, 1))),
  when(needs(1), () => g.mul(dY[0]!, x(node, 0))),
];
/** d(a/b)/db = -y/b: reuses the forward output. */
export const gradDiv: GradRule = ({ g, node, dY, needs }) => [
  when(needs(0), () => g.div(dY[0]!, x(node, 1))),
  when(needs(1), () => g.neg(g.div(g.mul(dY[0]!, y(node)), x(node, 1)))),
];
/**
 * The mask comes from the output, so the forward Conv + Relu can fuse. dY * Cast(y > 0) rather
 * than Where(y > 0, dY, 0): ORT's Where with a broadcast scalar is slow (EDSRmini step, 1
 * thread: -7 ms of ~225 over 8 ReLUs).
 */
export const gradRelu: GradRule = ({ g, node, dY }) => [
  g.mul(dY[0]!, g.op1('Cast', [g.op1('Greater', [y(node), g.scalar(0)])], { to: 1 })),
];
export const gradLeakyRelu: GradRule = ({ g, node, dY }) => {
  const alpha = node.attrs.alpha === undefined ? 0.01 : (node.attrs.alpha as number);
  return [g.where(g.op1('Greater', [x(node), g.scalar(0)]), dY[0]!, g.mul(dY[0]!, g.scalar(alpha)))];
};
/** d erf(x)/dx = 2/sqrt(pi) exp(-x^2). */
export const gradErf: GradRule = ({ g, node, dY }) => {
  const e = g.op1('Exp', [g.neg(g.mul(x(node), x(node)))]);
  return [g.mul(dY[0]!, g.mul(e, g.scalar(2 / Math.sqrt(Math.PI))))];
};
export const gradExp: GradRule = ({ g, node, dY }) => [g.mul(dY[0]!, y(node))];
export const gradLog: GradRule = ({ g, node, dY }) => [g.div(dY[0]!, x(node))];
export const gradSqrt: GradRule = ({ g, node, dY }) => [g.div(g.mul(dY[0]!, g.scalar(0.5)), y(node))];
export const gradSigmoid: GradRule = ({ g, node, dY }) => [g.mul(dY[0]!, g.mul(y(node), g.sub(g.scalar(1), y(node))))];
export const gradTanh: GradRule = ({ g, node, dY }) => [g.mul(dY[0]!, g.sub(g.scalar(1), g.mul(y(node), y(node))))];
export const gradReciprocal: GradRule = ({ g, node, dY }) => [g.neg(g.mul(dY[0]!, g.mul(y(node), y(node))))];
export const gradAbs: GradRule = ({ g, node, dY }) => [g.mul(dY[0]!, g.sign(x(node)))];
/** Pow with a constant exponent p: p x^(p-1). */
export const gradPow: GradRule = ({ g, node, dY, needs }) => {
  if (needs(1)) throw new TypeError(`${node.name}: Pow gradient w.r.t. the exponent is not supported`);
  const p = x(node, 1);
  return [g.mul(dY[0]!, g.mul(p, g.op1('Pow', [x(node), g.sub(p, g.scalar(1))])))];
};
/** Max/Min: the strict winner takes the gradient; ties go to the second operand. */
function minMax(cmp: 'Greater' | 'Less'): GradRule {
  return ({ g, node, dY, needs }) => {
    const firstWins = g.op1(cmp, [x(node, 0), x(node, 1)]);
    const zero = g.scalar(0);
    return [when(needs(0), () => g.where(firstWins, dY[0]!, zero)), when(needs(1), () => g.where(firstWins, zero, dY[0]!))];
  };
}
export const gradMax = minMax('Greater');
export const gradMin = minMax('Less');
export const gradWhere: GradRule = ({ g, node, dY, needs }) => {
  const zero = g.scalar(0);
  return [undefined, when(needs(1), () => g.where(x(node, 0), dY[0]!, zero)), when(needs(2), () => g.where(x(node, 0), zero, dY[0]!))];
};
/** Clip passes the gradient where min <= x <= max. */
export const gradClip: GradRule = ({ g, node, dY }) => {
  let d = dY[0]!;
  const zero = g.scalar(0);
  if (node.inputs[1]) d = g.where(g.op1('Less', [x(node), x(node, 1)]), zero, d);
  if (node.inputs[2]) d = g.where(g.op1('Greater', [x(node), x(node, 2)]), zero, d);
  return [d];
};

// ---- linear algebra ----

function swapLast(g: Graph, v: Value): Value {
  const r = v.shape.length;
  return g.transpose(v, [...Array(r - 2).keys(), r - 1, r - 2]);
}

/** [g, cog, cig, kh, kw] -> [g, cig, cog, kh, kw] with both spatial axes reversed. */
function transposeFlip(w: Float32Array, group: number, cog: number, cig: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let gi = 0; gi < group; gi++)
    for (let o = 0; o < cog; o++)
      for (let i = 0; i < cig; i++)
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++)
            out[(((gi * cig + i) * cog + o) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)] = w[(((gi * cog + o) * cig + i) * kh + a) * kw + b]!;
  return out;
}

/** Batched MatMul; a 2-D weight operand gets one big MatMul instead of a batch then a sum. */
export const gradMatMul: GradRule = ({ g, node, dY, needs }) => {
  const [a, b] = [x(node, 0), x(node, 1)];
  const d = dY[0]!;
  const da = when(needs(0), () => g.matmul(d, swapLast(g, b)));
  const db = when(needs(1), () => {
    if (b.shape.length === 2 && a.shape.length > 2) {
      const k = a.shape[a.shape.length - 1]!;
      const n = b.shape[1]!;
      return g.matmul(g.transpose(g.reshape(a, [-1, k]), [1, 0]), g.reshape(d, [-1, n]));
    }
    return g.matmul(swapLast(g, a), d);
  });
  return [da, db];
};

/**
 * Conv. dX: for stride 1 a Conv of dY with the weights transposed (in/out, per group) and
 * flipped, or, when the conv widens (Co > Ci, group 1), a ConvTranspose with W itself; for
 * stride > 1 a ConvTranspose. EDSRmini's shapes, 1 thread (scripts/bench/conv-dx.ts): for the
 * 16->64 upsample conv ConvTranspose 8.2 ms vs flipped Conv 11.9 ms; for 16->16 and 16->3 the
 * flipped Conv wins (2.2 vs 3.5 ms, 1.9 vs 14.0 ms).
 * dW (group 1): see `convWeightGrad`. db: ReduceSum of dY.
 */
export const gradConv: GradRule = ({ g, node, dY, needs }) => {
  const [X, W] = [x(node, 0), x(node, 1)];
  const d = dY[0]!;
  const [co, cig, kh, kw] = W.shape as [number, number, number, number];
  const group = intAttr(node.attrs, 'group', 1);
  const pads = intsAttr(node.attrs, 'pads', [0, 0, 0, 0]);
  const strides = intsAttr(node.attrs, 'strides', [1, 1]);
  const dil = intsAttr(node.attrs, 'dilations', [1, 1]);
  if (dil.some((v) => v !== 1)) throw new TypeError(`${node.name}: Conv gradient supports dilation 1 only`);
  const stride1 = strides.every((s) => s === 1);
  // Pads of at most k-1 leave the transposed convolution's padding non-negative.
  const padsFit = pads[0]! <= kh - 1 && pads[2]! <= kh - 1 && pads[1]! <= kw - 1 && pads[3]! <= kw - 1;

  const dX = when(needs(0), () => {
    if (stride1 && padsFit && !(group === 1 && co > cig && !W.data)) {
      // W [Co, Ci/g, k, k] -> W' [Ci, Co/g, k, k], flipped spatially. A constant W (the loss's
      // blur) gets a constant W', which ORT can prepack like any fixed weight.
      let wt: Value;
      if (W.data)
        wt = g.constant({
          dtype: 'float32',
          shape: [group * cig, co / group, kh, kw],
          data: transposeFlip(W.data.data as Float32Array, group, co / group, cig, kh, kw),
        });
      else {
        wt = g.reshape(W, [group, co / group, cig, kh, kw]);
        wt = g.reshape(g.transpose(wt, [0, 2, 1, 3, 4]), [group * cig, co / group, kh, kw]);
        wt = flip(g, flip(g, wt, 2), 3);
      }
      const p = [kh - 1 - pads[0]!, kw - 1 - pads[1]!, kh - 1 - pads[2]!, kw - 1 - pads[3]!];
      return g.op1('Conv', [d, wt], { kernel_shape: [kh, kw], pads: p, group });
    }
    const outPad = [0, 1].map(
      (ax) => X.shape[2 + ax]! - ((d.shape[2 + ax]! - 1) * strides[ax]! + W.shape[2 + ax]! - pads[ax]! - pads[ax + 2]!),
    );
    return g.op1('ConvTranspose', [d, W], { kernel_shape: [kh, kw], pads, strides, group, output_padding: outPad });
  });

  const dW = when(needs(1), () => {
    if (group !== 1) throw new TypeError(`${node.name}: Conv weight gradient supports group 1 only`);
    // Shifts of up to k-1 must stay inside the grid.
    const same = stride1 && d.shape[2] === X.shape[2] && d.shape[3] === X.shape[3] && kh <= X.shape[2]! && kw <= X.shape[3]!;
    return same ? sameConvWeightGrad(g, X, d, W.shape as number[], pads) : convWeightGrad(g, X, d, W.shape as number[], pads, strides);
  });

  const db = when(needs(2), () => g.reduceSum(d, [0, 2, 3], false));
  return [dX, dW, db];
};

/**
 * Shifts v [N, C, H, W] by s along `axis` (2 or 3), zero-filled: out[i] = v[i - s], as one Pad
 * with one side negative. Rows shift on the flattened H*W axis (whole rows move: contiguous
 * copies, cheaper than ORT's 4-D Pad).
 */
function shift(g: Graph, v: Value, axis: 2 | 3, s: number): Value {
  if (s === 0) return v;
  const [n, c, h, w] = v.shape as [number, number, number, number];
  if (axis === 2) return g.reshape(g.pad(g.reshape(v, [n, c, h * w]), [0, 0, s * w, 0, 0, -s * w]), [n, c, h, w]);
  return g.pad(v, [0, 0, 0, s, 0, 0, 0, -s]);
}

/**
 * dW [Co, Ci, kh, kw] of a stride-1 Conv whose output has its input's size ("same" padding):
 *   dW[:, :, a, b] = sum_{n,i,j} dY[n, :, i, j] x[n, :, i + a - p0, j + b - p1]
 *                  = sum_{n,i,j} D[n, :, i, j] X[n, :, i, j]
 * with D and X shifted, zero-filled copies of dY and x on the same H x W grid, so every tap is
 * one batched MatMul over the flattened grid (then a ReduceSum over the batch). Usually the
 * kh row shifts go on dY and the kw column shifts on x (kh-1 + kw-1 copies); a tensor 4+ times
 * smaller than the other (EDSR's 3->16 first and 16->3 last convs) takes all kh*kw shifts
 * instead, concatenated into one MatMul. 1 thread, batch 16 (scripts/bench/conv-wgrad.ts)
 * against the former slices of a padded x with row-padded dY: 16->16 at 48x48 4.1 vs 5.5 ms;
 * 16->64 11.3 vs 16.5; 3->16 (all on x) 2.0 vs 4.2; 16->3 at 96x96 (all on dY) 6.1 vs 9.4.
 * It never holds a k*k-times-larger unfolded copy of the larger tensor.
 */
function sameConvWeightGrad(g: Graph, X: Value, d: Value, wShape: number[], pads: readonly number[]): Value {
  const [co, ci, kh, kw] = wShape as [number, number, number, number];
  const [n, , h, w] = X.shape as [number, number, number, number];
  const [p0, p1] = [pads[0]!, pads[1]!];
  const flat = (v: Value) => g.reshape(v, [n, v.shape[1]!, h * w]);
  // v holds the taps with axes `order` (indices into [a, b, co, ci]); to [Co, Ci, kh, kw].
  const toWeight = (v: Value, order: number[]) =>
    g.transpose(
      g.reshape(
        v,
        order.map((o) => [kh, kw, co, ci][o]!),
      ),
      [2, 3, 0, 1].map((o) => order.indexOf(o)),
    );
  if (4 * co <= ci || 4 * ci <= co) {
    const onDy = co < ci;
    // The small tensor shifted to all taps, concatenated along channels: [N, kh*kw*C, H*W].
    const shifted = Array.from({ length: kh * kw }, (_, t) => {
      const [a, b] = [Math.floor(t / kw), t % kw];
      return onDy ? shift(g, shift(g, d, 2, a - p0), 3, b - p1) : shift(g, shift(g, X, 2, p0 - a), 3, p1 - b);
    });
    const all = flat(g.concat(shifted, 1));
    if (onDy) return toWeight(g.reduceSum(g.matmul(all, g.transpose(flat(X), [0, 2, 1])), [0], false), [0, 1, 2, 3]); // rows (a, b, co)
    return toWeight(g.reduceSum(g.matmul(flat(d), g.transpose(all, [0, 2, 1])), [0], false), [2, 0, 1, 3]); // [Co, (a, b, ci)]
  }
  // Row shifts on dY, concatenated along channels (the MatMul's left operand, read in place),
  // column shifts on x (the right operand, which MLAS packs): one MatMul per column shift gives
  // kh taps. This orientation also won for Co < Ci (24->12 at 64x64: 8.6 vs 10.0 ms).
  const rows = flat(
    g.concat(
      Array.from({ length: kh }, (_, a) => shift(g, d, 2, a - p0)),
      1,
    ),
  );
  const perB = Array.from({ length: kw }, (_, b) =>
    g.reduceSum(g.matmul(rows, g.transpose(flat(shift(g, X, 3, p1 - b)), [0, 2, 1])), [0], false),
  ); // [(a, co), ci]
  return toWeight(g.concat(perB, 0), [1, 0, 2, 3]);
}

/** dW of any other group-1 Conv: per tap, a batched MatMul of dY with a (strided) slice of the padded x. */
function convWeightGrad(g: Graph, X: Value, d: Value, wShape: number[], pads: readonly number[], strides: readonly number[]): Value {
  const [co, ci, kh, kw] = wShape as [number, number, number, number];
  const n = X.shape[0]!;
  const [ho, wo] = [d.shape[2]!, d.shape[3]!];
  const xp = pads.some((p) => p !== 0) ? g.pad(X, [0, 0, pads[0]!, pads[1]!, 0, 0, pads[2]!, pads[3]!]) : X;
  const d3 = g.reshape(d, [n, co, ho * wo]);
  const [sh, sw] = [strides[0]!, strides[1]!];
  const taps: Value[] = [];
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++) {
      const xj = g.reshape(g.slice(xp, [a, b], [a + (ho - 1) * sh + 1, b + (wo - 1) * sw + 1], [2, 3], [sh, sw]), [n, ci, ho * wo]);
      taps.push(g.reduceSum(g.matmul(d3, g.transpose(xj, [0, 2, 1])), [0], false)); // [Co, Ci]
    }
  return g.transpose(g.reshape(g.concat(taps, 0), [kh, kw, co, ci]), [2, 3, 0, 1]);
}

/** ConvTranspose (stride 1, group 1) w.r.t. its input: a plain Conv with the same weights. */
export const gradConvTranspose: GradRule = ({ g, node, dY, needs }) => {
  if (needs(1) || needs(2)) throw new TypeError(`${node.name}: ConvTranspose gradient covers the data input only`);
  const W = x(node, 1);
  const strides = intsAttr(node.attrs, 'strides', [1, 1]);
  const group = intAttr(node.attrs, 'group', 1);
  const pads = intsAttr(node.attrs, 'pads', [0, 0, 0, 0]);
  return [g.op1('Conv', [dY[0]!, W], { kernel_shape: W.shape.slice(2), pads, strides, group })];
};

// ---- normalisation and softmax ----

/** dX = Y * (dY - sum(dY * Y)) along the axis. */
export const gradSoftmax: GradRule = ({ g, node, dY }) => {
  const Y = y(node);
  const axis = normAxis(intAttr(node.attrs, 'axis', -1), Y.shape.length);
  const s = g.reduceSum(g.mul(dY[0]!, Y), [axis], true);
  return [g.mul(Y, g.sub(dY[0]!, s))];
};

/**
 * LayerNormalization from its saved Mean/InvStdDev outputs (recomputed when the node did not
 * declare them): with xh = (x - mean) * r, dx = r * (dxh - mean(dxh) - xh * mean(dxh * xh)).
 */
export const gradLayerNorm: GradRule = ({ g, node, dY, needs }) => {
  const X = x(node);
  const d = dY[0];
  if (!d) return [];
  const axis = normAxis(intAttr(node.attrs, 'axis', -1), X.shape.length);
  const normAxes = [...Array(X.shape.length - axis).keys()].map((i) => axis + i);
  const outerAxes = [...Array(axis).keys()];
  let mean = node.outputs[1];
  let r = node.outputs[2];
  if (!mean || !r) {
    const eps = node.attrs.epsilon === undefined ? 1e-5 : (node.attrs.epsilon as number);
    mean = g.reduceMean(X, normAxes, true);
    const c = g.sub(X, mean);
    r = g.op1('Reciprocal', [g.sqrt(g.add(g.reduceMean(g.mul(c, c), normAxes, true), g.scalar(eps)))]);
  }
  const normShape = X.shape.slice(axis);
  const xh = g.mul(g.sub(X, mean), r);
  const scale = g.reshape(x(node, 1), normShape);
  const dX = when(needs(0), () => {
    const dxh = g.mul(d, scale);
    const m1 = g.reduceMean(dxh, normAxes, true);
    const m2 = g.reduceMean(g.mul(dxh, xh), normAxes, true);
    return g.mul(r, g.sub(g.sub(dxh, m1), g.mul(xh, m2)));
  });
  const sumOuter = (v: Value) => (outerAxes.length ? g.reduceSum(v, outerAxes, false) : v);
  const dScale = when(needs(1), () => g.reshape(sumOuter(g.mul(d, xh)), x(node, 1).shape));
  const dBias = when(needs(2), () => g.reshape(sumOuter(d), x(node, 2).shape));
  return [dX, dScale, dBias];
};

// ---- reductions ----

function reduceGrad(scaleByCount: boolean): GradRule {
  return ({ g, node, dY }) => {
    const X = x(node);
    const axesIn =
      node.op === 'ReduceSum' ? (node.inputs[1] ? constInts(node.inputs[1], 'ReduceSum axes') : []) : intsAttr(node.attrs, 'axes', []);
    const axes = axesIn.length ? axesIn.map((a) => normAxis(a, X.shape.length)) : [...X.shape.keys()];
    const kept = X.shape.map((dim, i) => (axes.includes(i) ? 1 : dim));
    let d = g.reshape(dY[0]!, kept);
    if (scaleByCount) d = g.mul(d, g.scalar(1 / axes.reduce((p, a) => p * X.shape[a]!, 1)));
    return [g.expand(d, X.shape)];
  };
}
export const gradReduceSum = reduceGrad(false);
export const gradReduceMean = reduceGrad(true);

// ---- shape ops ----

export const gradReshape: GradRule = ({ g, node, dY }) => [g.reshape(dY[0]!, x(node).shape)];
export const gradTranspose: GradRule = ({ g, node, dY }) => {
  const perm = intsAttr(node.attrs, 'perm', [...x(node).shape.keys()].reverse());
  return [g.transpose(dY[0]!, inversePerm(perm))];
};
/** Expand: the walker's un-broadcast sums the expanded axes away. */
export const gradExpand: GradRule = (a) => [d0(a)];
export const gradTile: GradRule = ({ g, node, dY }) => {
  const X = x(node);
  const reps = constInts(node.inputs[1], 'Tile repeats');
  const split = X.shape.flatMap((dim, i) => [reps[i]!, dim]);
  return [
    g.reshape(
      g.reduceSum(
        g.reshape(dY[0]!, split),
        reps.map((_, i) => 2 * i),
        false,
      ),
      X.shape,
    ),
  ];
};

/** Slice with steps +-1: the gradient is dY placed back with zero padding (flipped for -1). */
export const gradSlice: GradRule = ({ g, node, dY }) => {
  const X = x(node);
  const starts = constInts(node.inputs[1], 'Slice starts');
  const ends = constInts(node.inputs[2], 'Slice ends');
  const axes = node.inputs[3] ? constInts(node.inputs[3], 'Slice axes') : starts.map((_, i) => i);
  const steps = node.inputs[4] ? constInts(node.inputs[4], 'Slice steps') : starts.map(() => 1);
  const r = X.shape.length;
  const pads = new Array<number>(2 * r).fill(0);
  let d = dY[0]!;
  axes.forEach((a0, i) => {
    const a = normAxis(a0, r);
    const dim = X.shape[a]!;
    const { start, count } = sliceRange(dim, starts[i]!, ends[i]!, steps[i]!);
    if (steps[i] === 1) {
      pads[a] = start;
      pads[a + r] = dim - start - count;
    } else if (steps[i] === -1) {
      d = flip(g, d, a);
      pads[a] = start - count + 1;
      pads[a + r] = dim - 1 - start;
    } else throw new TypeError(`${node.name}: Slice gradient supports steps of 1 and -1 only`);
  });
  return [pads.some((p) => p !== 0) ? g.pad(d, pads) : d];
};

export const gradConcat: GradRule = ({ g, node, dY, needs }) => {
  const axis = normAxis(intAttr(node.attrs, 'axis', 0), x(node).shape.length);
  let offset = 0;
  return node.inputs.map((v, i) => {
    const size = v!.shape[axis]!;
    const start = offset;
    offset += size;
    return when(needs(i), () => g.slice(dY[0]!, [start], [start + size], [axis]));
  });
};

export const gradSplit: GradRule = ({ g, node, dY }) => {
  const axis = normAxis(intAttr(node.attrs, 'axis', 0), x(node).shape.length);
  return [
    g.concat(
      node.outputs.map((o, i) => dY[i] ?? g.zeros(o.shape)),
      axis,
    ),
  ];
};

export const gradSqueezeLike: GradRule = ({ g, node, dY }) => [g.reshape(dY[0]!, x(node).shape)];

/**
 * Gather along `axis`. Constant indices that never repeat (token permutations, SwinIR's window
 * order) get a Gather with the inverse index, zeros where no index points: no scatter at all.
 * Otherwise a scatter-add of dY into zeros (ScatterElements, reduction add) over the view
 * [outer, indices, inner], so repeated indices (SwinIR's bias table) accumulate.
 */
export const gradGather: GradRule = ({ g, node, dY }) => {
  const X = x(node);
  const idx = x(node, 1);
  const axis = normAxis(intAttr(node.attrs, 'axis', 0), X.shape.length);
  const dim = X.shape[axis]!;
  const outer = numel(X.shape.slice(0, axis));
  const inner = numel(X.shape.slice(axis + 1));
  const n = numel(idx.shape);
  const view = [outer, n, inner];
  const d = g.reshape(dY[0]!, view);
  const inverse = idx.data ? inverseIndex(constInts(idx, 'Gather indices'), dim) : undefined;
  if (inverse) {
    const covered = inverse.every((j) => j < n);
    const source = covered ? d : g.concat([d, g.zeros([outer, 1, inner])], 1); // slot n holds zeros
    const back = g.op1('Gather', [source, g.constant({ dtype: 'int64', shape: [dim], data: BigInt64Array.from(inverse, BigInt) })], {
      axis: 1,
    });
    return [g.reshape(back, X.shape)];
  }
  const ix = g.expand(g.reshape(idx.dtype === 'int64' ? idx : g.op1('Cast', [idx], { to: 7 }), [1, n, 1]), view);
  const acc = g.op1('ScatterElements', [g.zeros([outer, dim, inner]), ix, d], { axis: 1, reduction: 'add' });
  return [g.reshape(acc, X.shape)];
};

/** For indices that never repeat: where each of 0..dim-1 was gathered to (n where nowhere); else undefined. */
function inverseIndex(indices: readonly number[], dim: number): number[] | undefined {
  const n = indices.length;
  const inverse = new Array<number>(dim).fill(n);
  for (let j = 0; j < n; j++) {
    const k = indices[j]! < 0 ? indices[j]! + dim : indices[j]!;
    if (inverse[k] !== n) return undefined;
    inverse[k] = j;
  }
  return inverse;
}

/**
 * DepthToSpace backward: SpaceToDepth, its inverse for DCR; for CRD followed by a transpose of
 * [N, b*b, C, H*W] to [N, C, b*b, H*W], which moves whole H*W planes. EDSRmini's [16, 16, 96, 96]
 * gradient, 1 thread: 3.4 ms against 7.6 ms for the one 6-D Transpose it replaces
 * (scripts/bench/conv-dx.ts).
 */
export const gradDepthToSpace: GradRule = ({ g, node, dY }) => {
  const [n, c, h, w] = x(node).shape as [number, number, number, number];
  const b = intAttr(node.attrs, 'blocksize', 0);
  // WebGPU has no SpaceToDepth kernel: there it ran on the CPU between two copies (H200, EDSRmini
  // step 54 -> 66 ms), so a GPU graph inverts the shuffle with Reshape + Transpose.
  if (g.target === 'gpu') {
    const crd = strAttr(node.attrs, 'mode', 'DCR') === 'CRD';
    // Forward CRD: [n, oc, b, b, h, w] -perm [0,1,4,2,5,3]-> ; DCR: [n, b, b, oc, h, w] -perm [0,3,4,1,5,2]->.
    const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
    return [g.reshape(g.transpose(g.reshape(dY[0]!, [n, c / (b * b), h, b, w, b]), inversePerm(perm)), [n, c, h, w])];
  }
  const s2d = g.op1('SpaceToDepth', [dY[0]!], { blocksize: b }); // channels (bh, bw, oc)
  if (strAttr(node.attrs, 'mode', 'DCR') !== 'CRD') return [s2d];
  return [g.reshape(g.transpose(g.reshape(s2d, [n, b * b, c / (b * b), h * w]), [0, 2, 1, 3]), [n, c, h, w])];
};
export const gradSpaceToDepth: GradRule = ({ g, node, dY }) => [
  g.op1('DepthToSpace', [dY[0]!], { blocksize: intAttr(node.attrs, 'blocksize', 0), mode: 'DCR' }),
];

/**
 * Pad. constant: Slice the interior. reflect: fold each mirrored border back onto the
 * interior (axis by axis, in reverse, since ONNX reflect-pads axes one after another).
 */
export const gradPad: GradRule = ({ g, node, dY, needs }) => {
  if (needs(2)) throw new TypeError(`${node.name}: Pad gradient w.r.t. the pad value is not supported`);
  const X = x(node);
  const pads = constInts(node.inputs[1], 'Pad pads');
  const r = X.shape.length;
  const mode = strAttr(node.attrs, 'mode', 'constant');
  let d = dY[0]!;
  if (mode === 'constant') {
    const axes = [...Array(r).keys()].filter((a) => pads[a] !== 0 || pads[a + r] !== 0);
    // With a negative (cropping) side the adjoint is the Pad with every pad negated: what was
    // cropped comes back as zeros, what was added is cropped (a shift's gradient is the opposite shift).
    if (axes.some((a) => pads[a]! < 0 || pads[a + r]! < 0))
      return [
        g.pad(
          d,
          pads.map((p) => -p),
        ),
      ];
    return [
      axes.length
        ? g.slice(
            d,
            axes.map((a) => pads[a]!),
            axes.map((a) => pads[a]! + X.shape[a]!),
            axes,
          )
        : d,
    ];
  }
  if (mode !== 'reflect') throw new TypeError(`${node.name}: Pad gradient supports constant and reflect modes`);
  for (let a = r - 1; a >= 0; a--) {
    const [p0, p1, n] = [pads[a]!, pads[a + r]!, X.shape[a]!];
    if (p0 === 0 && p1 === 0) continue;
    const axisPads = (before: number, after: number) => {
      const p = new Array<number>(2 * r).fill(0);
      p[a] = before;
      p[a + r] = after;
      return p;
    };
    let acc = g.slice(d, [p0], [p0 + n], [a]);
    // y[p0 - i] = x[i] for i in 1..p0; y[p0 + n - 1 + i] = x[n - 1 - i] for i in 1..p1.
    if (p0 > 0) acc = g.add(acc, g.pad(flip(g, g.slice(d, [0], [p0], [a]), a), axisPads(1, n - 1 - p0)));
    if (p1 > 0) acc = g.add(acc, g.pad(flip(g, g.slice(d, [p0 + n], [p0 + n + p1], [a]), a), axisPads(n - 1 - p1, 1)));
    d = acc;
  }
  return [d];
};

/**
 * AveragePool without padding: for kernel == stride a nearest upsampling of dY / k^2 by
 * Reshape/Expand (cheap); otherwise a depthwise ConvTranspose with a constant 1/k^2 kernel.
 */
export const gradAveragePool: GradRule = ({ g, node, dY }) => {
  const X = x(node);
  const d = dY[0]!;
  const [n, c, h, w] = X.shape as [number, number, number, number];
  const k = intsAttr(node.attrs, 'kernel_shape', []);
  const s = intsAttr(node.attrs, 'strides', [1, 1]);
  const pads = intsAttr(node.attrs, 'pads', [0, 0, 0, 0]);
  if (pads.some((p) => p !== 0) || intAttr(node.attrs, 'ceil_mode', 0) !== 0)
    throw new TypeError(`${node.name}: AveragePool gradient supports pads 0, floor mode only`);
  const [ho, wo] = [d.shape[2]!, d.shape[3]!];
  const inv = g.scalar(1 / (k[0]! * k[1]!));
  let up: Value;
  if (k[0] === s[0] && k[1] === s[1]) {
    up = g.expand(g.reshape(g.mul(d, inv), [n, c, ho, 1, wo, 1]), [n, c, ho, k[0]!, wo, k[1]!]);
    up = g.reshape(up, [n, c, ho * k[0]!, wo * k[1]!]);
  } else {
    const kern = g.constant({
      dtype: 'float32',
      shape: [c, 1, k[0]!, k[1]!],
      data: new Float32Array(c * k[0]! * k[1]!).fill(1 / (k[0]! * k[1]!)),
    });
    up = g.op1('ConvTranspose', [d, kern], { kernel_shape: k, strides: s, group: c });
  }
  const [uh, uw] = [up.shape[2]!, up.shape[3]!];
  return [uh === h && uw === w ? up : g.pad(up, [0, 0, 0, 0, 0, 0, h - uh, w - uw])];
};
