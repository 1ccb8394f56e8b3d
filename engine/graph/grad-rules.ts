import { numel } from '../io/tensor';
import type { Graph } from './graph';
import { intAttr, intsAttr, strAttr } from './attrs';
import { constInts, sliceRange } from './const-args';
import { d0, flip, when, x, y, type GradRule } from './grad-common';
import { normAxis, type Value } from './value';

/**
 * Gradient rules, one per op, referenced from the op table (ops.ts) beside each shape rule
 * (what a rule is: grad-common.ts; the convolutions: grad-conv.ts).
 */

export type { GradArgs, GradRule } from './grad-common';

function inversePerm(perm: readonly number[]): number[] {
  const inv: number[] = new Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
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
 * than Where(y > 0, dY, 0): ORT's Where with a broadcast scalar is slow (engine/train/README.md).
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

/** Reshape, Flatten, Squeeze, Unsqueeze: dY reshaped back to the input's shape. */
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
 * [N, b*b, C, H*W] to [N, C, b*b, H*W], which moves whole H*W planes (faster than the one 6-D
 * Transpose it replaces: engine/train/README.md).
 */
export const gradDepthToSpace: GradRule = ({ g, node, dY }) => {
  const [n, c, h, w] = x(node).shape as [number, number, number, number];
  const b = intAttr(node.attrs, 'blocksize', 0);
  // WebGPU has no SpaceToDepth kernel: there it runs on the CPU between two copies
  // (engine/train/README.md), so a GPU graph inverts the shuffle with Reshape + Transpose.
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
