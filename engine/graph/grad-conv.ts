import type { Graph } from './graph';
import { intAttr, intsAttr } from './attrs';
import { flip, when, x, type GradRule } from './grad-common';
import type { Value } from './value';

/** The convolution gradients (Conv, ConvTranspose): the largest rules, in a file of their own. */

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

/**
 * Conv. dX: for stride 1 a Conv of dY with the weights transposed (in/out, per group) and
 * flipped, or, when the conv widens (Co > Ci, group 1), a ConvTranspose with W itself (faster
 * there, the flipped Conv elsewhere: engine/train/README.md); for stride > 1 a ConvTranspose.
 * dW (group 1): see `sameConvWeightGrad` / `convWeightGrad`. db: ReduceSum of dY.
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
    if (same && g.convWeightGrad === 'conv') return convAsConvWeightGrad(g, X, d, kh, kw, pads);
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
 * instead, concatenated into one MatMul. Faster than slices of a padded x for every EDSRmini
 * shape (engine/train/README.md), and it never holds a k*k-times-larger unfolded copy of the
 * larger tensor.
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
  // kh taps. This orientation also won for Co < Ci (engine/train/README.md).
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

/**
 * dW of a "same" stride-1 Conv as one Conv: with batch and channels swapped, x^T [Ci, N, H, W]
 * convolved with dY^T [Co, N, H, W] as an H x W kernel, padded so the output is kh x kw, gives
 *   out[ci, co, a, b] = sum_{n,i,j} x[n, ci, i + a - p0, j + b - p1] dY[n, co, i, j] = dW[co, ci, a, b]
 * transposed: 3 Transposes and a Conv.
 */
function convAsConvWeightGrad(g: Graph, X: Value, d: Value, kh: number, kw: number, pads: readonly number[]): Value {
  const [h, w] = [X.shape[2]!, X.shape[3]!];
  const p = [pads[0]!, pads[1]!, kh - 1 - pads[0]!, kw - 1 - pads[1]!];
  const swap = (v: Value) => g.transpose(v, [1, 0, 2, 3]);
  return swap(g.op1('Conv', [swap(X), swap(d)], { kernel_shape: [h, w], pads: p }));
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
