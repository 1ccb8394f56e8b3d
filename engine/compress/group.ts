import type { Shape } from '../graph/value';

/**
 * The group-lasso half of OBProx-SG (`optim.penalty: 'group'`): lambda * sum_g sqrt(|g|) ||w_g||_2
 * over the output channels of every regularised weight, so whole channels reach exact zero.
 *
 * A group is output channel o of a conv/linear weight, W[o, ...], together with its bias b[o]
 * when the layer has one (Only Train Once's zero-invariant group, Chen et al. 2021): a zero row
 * with a nonzero bias still writes a constant, and the importance report calls a channel or block
 * dead only when rows and biases are zero. So in group mode the biases of regularised layers
 * carry the penalty too.
 *
 * - Prox-SG step: gradient step, then group soft-thresholding
 *   w_g <- w_g * max(0, 1 - lr lambda sqrt(|g|) / ||w_g||).
 * - Half-space step (HSPG, Chen et al., "A Half-Space Stochastic Projected Gradient Method for
 *   Group Sparsity Regularization"): a nonzero group steps along the gradient of
 *   f + lambda sqrt(|g|) ||w_g||, and becomes zero when the result leaves the half-space
 *   {z : z.w_g >= eps ||w_g||^2}; zero groups stay zero. The group analogue of the orthant step.
 */

/** The output channels of one weight (and its bias): `out` groups of `rowLen` weights (+1 bias). */
export interface ChannelGroups {
  weight: string;
  bias?: string;
  out: number;
  rowLen: number;
}

/** A group's tensors: the weight rows and, where present, the bias. */
export interface GroupTensors {
  w: Float32Array;
  b?: Float32Array;
}

/** The groups of the regularised weights; a weight's bias joins when it has one entry per output channel. */
export function channelGroups(
  weights: Iterable<string>,
  params: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, Shape>,
): ChannelGroups[] {
  return [...weights].map((weight) => {
    const out = shapes.get(weight)![0]!;
    const rowLen = params.get(weight)!.length / out;
    const biasKey = weight.replace(/\.weight$/, '.bias');
    const b = params.get(biasKey);
    return { weight, out, rowLen, ...(b && b.length === out ? { bias: biasKey } : {}) };
  });
}

const groupSize = (rowLen: number, b?: Float32Array) => rowLen + (b ? 1 : 0);

/** Gradient step, then group soft-thresholding by lr * lambda * sqrt(|g|) per output channel. */
export function groupProxStep(p: GroupTensors, g: GroupTensors, rowLen: number, lr: number, lambda: number): void {
  const { w, b } = p;
  const t = lr * lambda * Math.sqrt(groupSize(rowLen, b));
  for (let o = 0, start = 0; start < w.length; o++, start += rowLen) {
    let n2 = 0;
    for (let i = start; i < start + rowLen; i++) {
      const z = w[i]! - lr * g.w[i]!;
      w[i] = z;
      n2 += z * z;
    }
    if (b) {
      b[o] = b[o]! - lr * g.b![o]!;
      n2 += b[o]! * b[o]!;
    }
    const norm = Math.sqrt(n2);
    const scale = norm > t ? 1 - t / norm : 0;
    for (let i = start; i < start + rowLen; i++) w[i] = w[i]! * scale;
    if (b) b[o] = b[o]! * scale;
  }
}

/** The half-space step on every output channel; `eps` in [0, 1): larger zeroes more. */
export function halfSpaceStep(p: GroupTensors, g: GroupTensors, rowLen: number, lr: number, lambda: number, eps = 0): void {
  const { w, b } = p;
  const weight = lambda * Math.sqrt(groupSize(rowLen, b));
  const z = new Float64Array(rowLen + 1);
  for (let o = 0, start = 0; start < w.length; o++, start += rowLen) {
    let n2 = 0;
    for (let i = start; i < start + rowLen; i++) n2 += w[i]! * w[i]!;
    if (b) n2 += b[o]! * b[o]!;
    if (n2 === 0) continue; // zero groups are fixed
    const coef = weight / Math.sqrt(n2);
    let dot = 0;
    for (let i = 0; i < rowLen; i++) {
      const x = w[start + i]!;
      z[i] = x - lr * (g.w[start + i]! + coef * x);
      dot += z[i]! * x;
    }
    if (b) {
      z[rowLen] = b[o]! - lr * (g.b![o]! + coef * b[o]!);
      dot += z[rowLen]! * b[o]!;
    }
    const keep = dot >= eps * n2;
    for (let i = 0; i < rowLen; i++) w[start + i] = keep ? z[i]! : 0;
    if (b) b[o] = keep ? z[rowLen]! : 0;
  }
}

/** lambda * sum_g sqrt(|g|) ||w_g||: the penalty half of F in group mode. */
export function groupPenalty(params: ReadonlyMap<string, Float32Array>, groups: readonly ChannelGroups[], lambda: number): number {
  let s = 0;
  for (const grp of groups) {
    const w = params.get(grp.weight);
    const b = grp.bias === undefined ? undefined : params.get(grp.bias);
    if (!w || (grp.bias !== undefined && !b)) throw new RangeError(`groupPenalty: no parameter ${grp.weight} or its bias`);
    for (let o = 0; o < grp.out; o++) {
      let n2 = b ? b[o]! * b[o]! : 0;
      for (let i = o * grp.rowLen; i < (o + 1) * grp.rowLen; i++) n2 += w[i]! * w[i]!;
      s += Math.sqrt(groupSize(grp.rowLen, b)) * Math.sqrt(n2);
    }
  }
  return lambda * s;
}

/** Output channels that are exactly zero (rows and bias), per group set. */
export function zeroGroups(params: ReadonlyMap<string, Float32Array>, grp: ChannelGroups): boolean[] {
  const w = params.get(grp.weight)!;
  const b = grp.bias === undefined ? undefined : params.get(grp.bias);
  return Array.from(
    { length: grp.out },
    (_, o) => (!b || b[o] === 0) && w.subarray(o * grp.rowLen, (o + 1) * grp.rowLen).every((v) => v === 0),
  );
}
