import type { Shape } from '../graph/value';

/**
 * The coupled penalty (`optim.penalty: 'coupled'`, EDSR only): one group per *decision* stage 2
 * makes, so that a feature channel or a residual block pays its penalty once and the loss
 * gradient of the whole decision defends it.
 *
 * - Channel group c: everything that writes stream channel c: conv_first's row c and bias c,
 *   every block's conv2 row c and bias c, conv_after_body's row c and bias c. Zero, channel c is
 *   identically 0 in both streams (B and R, see importance.ts), which is exactly the report's
 *   "never written in either stream": the readers need not be zero.
 * - Block group i: body.i's conv1 and conv2 weights and biases. Zero, the block is the identity.
 * - Unpenalised (plain SGD): upsample.0 and conv_last. Every compact EDSR keeps them (their width
 *   follows N_c by construction), so shrinking them only costs quality.
 *
 * Penalty: lambda * sum_g sqrt(|g|) ||w_g||_2 over both families. conv2's rows lie in two groups
 * (their channel's and their block's), so the groups overlap:
 * - Prox-SG step: the gradient step, then the group soft-threshold of each family in turn,
 *   channels first, then blocks (the usual approximation of the overlapping group-lasso prox; it
 *   is exact where groups do not overlap, and each family's step zeroes whole groups of it).
 * - Half-space step (HSPG, as group.ts's, with the overlap handled exactly): groups that are zero
 *   stay zero (so does every value in one); the rest step along the gradient of f + the penalty
 *   (a value in two groups takes both groups' terms); then a group whose step leaves its
 *   half-space {z : z.x_g >= eps ||x_g||^2} (x: the values before the step) becomes zero.
 *
 * The soft-threshold and half-space rules are group.ts's (groupProxStep / halfSpaceStep), here on
 * groups that span several tensors (a contiguous run of each), which group.ts's row layout cannot
 * hold; test/unit/compress-coupled.test.ts checks they agree where both apply.
 */

/** A contiguous run of one parameter tensor. */
export interface Segment {
  key: string;
  start: number;
  len: number;
}

export interface CoupledGroup {
  /** `channel N` or `body.N`. */
  name: string;
  segments: Segment[];
  /** Number of values in the group (n_g). */
  size: number;
}

export interface CoupledGroups {
  channels: CoupledGroup[];
  blocks: CoupledGroup[];
  /** Every parameter with a value in some group: the penalised tensors. */
  keys: string[];
}

type Params = ReadonlyMap<string, Float32Array>;

function group(name: string, segments: Segment[]): CoupledGroup {
  return { name, segments, size: segments.reduce((a, s) => a + s.len, 0) };
}

/** The channel and block groups of an EDSR model, from its parameter shapes (BasicSR key names). */
export function edsrCoupledGroups(shapes: ReadonlyMap<string, Shape>): CoupledGroups {
  const shape = (key: string): Shape => {
    const s = shapes.get(key);
    if (!s)
      throw new RangeError(
        `optim.penalty coupled applies to EDSR models only (its groups are the feature channels and residual blocks): no parameter ${key}`,
      );
    return s;
  };
  const rowLen = (key: string) => shape(key).reduce((a, b) => a * b, 1) / shape(key)[0]!;
  const C = shape('conv_first.weight')[0]!;
  let numBlock = 0;
  while (shapes.has(`body.${numBlock}.conv1.weight`)) numBlock++;
  if (numBlock === 0) shape('body.0.conv1.weight'); // throws naming it
  const blockKeys = Array.from({ length: numBlock }, (_, i) => `body.${i}`);
  const writers = ['conv_first', ...blockKeys.map((k) => `${k}.conv2`), 'conv_after_body'];
  for (const w of writers) {
    if (shape(`${w}.weight`)[0] !== C || shape(`${w}.bias`)[0] !== C)
      throw new RangeError(`coupled groups: ${w} must write the ${C} feature channels, its weight is [${shape(`${w}.weight`).join(', ')}]`);
  }
  const channels = Array.from({ length: C }, (_, c) =>
    group(
      `channel ${c}`,
      writers.flatMap((w) => {
        const n = rowLen(`${w}.weight`);
        return [
          { key: `${w}.weight`, start: c * n, len: n },
          { key: `${w}.bias`, start: c, len: 1 },
        ];
      }),
    ),
  );
  const whole = (key: string): Segment => ({ key, start: 0, len: shape(key).reduce((a, b) => a * b, 1) });
  const blocks = blockKeys.map((k) =>
    group(k, [whole(`${k}.conv1.weight`), whole(`${k}.conv1.bias`), whole(`${k}.conv2.weight`), whole(`${k}.conv2.bias`)]),
  );
  const keys = [...new Set([...channels, ...blocks].flatMap((g) => g.segments.map((s) => s.key)))];
  return { channels, blocks, keys };
}

function norm2(params: Params, g: CoupledGroup): number {
  let s = 0;
  for (const { key, start, len } of g.segments) {
    const p = params.get(key)!;
    for (let i = start; i < start + len; i++) s += p[i]! * p[i]!;
  }
  return s;
}

function scale(params: Params, g: CoupledGroup, by: number): void {
  for (const { key, start, len } of g.segments) {
    const p = params.get(key)!;
    for (let i = start; i < start + len; i++) p[i] = by === 0 ? 0 : p[i]! * by;
  }
}

/** The group is exactly zero. */
export function isZeroGroup(params: Params, g: CoupledGroup): boolean {
  return g.segments.every(({ key, start, len }) =>
    params
      .get(key)!
      .subarray(start, start + len)
      .every((v) => v === 0),
  );
}

/** Group soft-thresholding by lr * lambda * sqrt(|g|), in place (group.ts's groupProxStep rule). */
function softThreshold(params: Params, g: CoupledGroup, lr: number, lambda: number): void {
  const t = lr * lambda * Math.sqrt(g.size);
  const n = Math.sqrt(norm2(params, g));
  scale(params, g, n > t ? 1 - t / n : 0);
}

/** Gradient step on the grouped tensors, then each family's group soft-threshold in turn (channels, then blocks). */
export function coupledProxStep(params: Params, grads: Params, groups: CoupledGroups, lr: number, lambda: number): void {
  for (const key of groups.keys) {
    const p = params.get(key)!;
    const g = grads.get(key)!;
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * g[i]!;
  }
  for (const g of groups.channels) softThreshold(params, g, lr, lambda);
  for (const g of groups.blocks) softThreshold(params, g, lr, lambda);
}

/** HSPG's half-space step over both families at once (see the file comment); `eps` in [0, 1): larger zeroes more. */
export function coupledHalfSpaceStep(params: Params, grads: Params, groups: CoupledGroups, lr: number, lambda: number, eps = 0): void {
  const all = [...groups.channels, ...groups.blocks];
  const x = new Map(groups.keys.map((k) => [k, Float32Array.from(params.get(k)!)]));
  const n2 = all.map((g) => norm2(x, g));
  const frozen = new Map(groups.keys.map((k) => [k, new Uint8Array(x.get(k)!.length)]));
  all.forEach((g, j) => {
    if (n2[j] === 0) for (const { key, start, len } of g.segments) frozen.get(key)!.fill(1, start, start + len);
  });
  for (const key of groups.keys) {
    const p = params.get(key)!;
    const gr = grads.get(key)!;
    const f = frozen.get(key)!;
    for (let i = 0; i < p.length; i++) p[i] = f[i] ? 0 : p[i]! - lr * gr[i]!;
  }
  all.forEach((g, j) => {
    if (n2[j] === 0) return;
    const coef = (lr * lambda * Math.sqrt(g.size)) / Math.sqrt(n2[j]!);
    for (const { key, start, len } of g.segments) {
      const p = params.get(key)!;
      const xk = x.get(key)!;
      const f = frozen.get(key)!;
      for (let i = start; i < start + len; i++) if (!f[i]) p[i] = p[i]! - coef * xk[i]!;
    }
  });
  const leaves = all.map((g, j) => {
    if (n2[j] === 0) return false;
    let dot = 0;
    for (const { key, start, len } of g.segments) {
      const p = params.get(key)!;
      const xk = x.get(key)!;
      for (let i = start; i < start + len; i++) dot += p[i]! * xk[i]!;
    }
    return dot < eps * n2[j]!;
  });
  all.forEach((g, j) => leaves[j] && scale(params, g, 0));
}

/** lambda * sum_g sqrt(|g|) ||w_g|| over both families: the penalty half of F in coupled mode. */
export function coupledPenalty(params: Params, groups: CoupledGroups, lambda: number): number {
  let s = 0;
  for (const g of [...groups.channels, ...groups.blocks]) s += Math.sqrt(g.size) * Math.sqrt(norm2(params, g));
  return lambda * s;
}
