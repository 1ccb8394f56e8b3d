import { describe, expect, it } from 'vitest';
import { channelGroups, groupPenalty, groupProxStep, halfSpaceStep, zeroGroups } from '../../engine/compress/group';
import { OBProx } from '../../engine/compress/obprox';
import type { ParamSet } from '../../engine/train/optim';
import { Rng } from '../../engine/train/rng';
import { halfMeanSquaredResidual, orthogonalDesign } from './lasso-helpers';

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe('group steps', () => {
  it('a group Prox-SG step equals group soft-thresholding of the gradient step, bias included in the group', () => {
    const rng = Rng.seeded(5);
    const out = 40;
    const rowLen = 6;
    const w = Float32Array.from({ length: out * rowLen }, () => rng.uniform(-0.5, 0.5));
    const b = Float32Array.from({ length: out }, () => rng.uniform(-0.5, 0.5));
    const gw = Float32Array.from(w, () => rng.uniform(-1, 1));
    const gb = Float32Array.from(b, () => rng.uniform(-1, 1));
    const lr = 0.1;
    const lambda = 3;
    const p = { w: Float32Array.from(w), b: Float32Array.from(b) };
    groupProxStep(p, { w: gw, b: gb }, rowLen, lr, lambda);
    const t = lr * lambda * Math.sqrt(rowLen + 1);
    let zeroed = 0;
    for (let o = 0; o < out; o++) {
      const z = [...Array.from({ length: rowLen }, (_, i) => w[o * rowLen + i]! - lr * gw[o * rowLen + i]!), b[o]! - lr * gb[o]!];
      const scale = Math.max(0, 1 - t / norm(z));
      for (let i = 0; i < rowLen; i++) expect(p.w[o * rowLen + i]).toBeCloseTo(z[i]! * scale, 6);
      expect(p.b[o]).toBeCloseTo(z[rowLen]! * scale, 6);
      if (scale === 0) {
        zeroed++;
        expect(p.w.subarray(o * rowLen, (o + 1) * rowLen).every((v) => v === 0) && p.b[o] === 0).toBe(true);
      }
    }
    expect(zeroed).toBeGreaterThan(5); // threshold 0.79 against row norms ~0.6-1.2: both outcomes occur
    expect(zeroed).toBeLessThan(out - 5);
  });

  it('a half-space step keeps zero groups zero and zeroes a group whose step leaves the half-space', () => {
    const rng = Rng.seeded(6);
    const out = 300;
    const rowLen = 4;
    const w = Float32Array.from({ length: out * rowLen }, (_, i) => (Math.floor(i / rowLen) % 4 === 0 ? 0 : rng.uniform(-1, 1)));
    const g = Float32Array.from(w, () => rng.uniform(-20, 20)); // large: many steps leave the half-space
    const p = { w: Float32Array.from(w) };
    const lr = 0.1;
    const lambda = 0.5;
    halfSpaceStep(p, { w: g }, rowLen, lr, lambda);
    let left = 0;
    for (let o = 0; o < out; o++) {
      const x = w.subarray(o * rowLen, (o + 1) * rowLen);
      const now = p.w.subarray(o * rowLen, (o + 1) * rowLen);
      const n = norm(x);
      if (n === 0) {
        expect(now.every((v) => v === 0)).toBe(true); // never revived, whatever its gradient
        continue;
      }
      const z = Array.from(x, (v, i) => v - lr * (g[o * rowLen + i]! + (lambda * Math.sqrt(rowLen) * v) / n));
      const dot = z.reduce((s, v, i) => s + v * x[i]!, 0);
      if (dot < 0) {
        left++;
        expect(now.every((v) => v === 0)).toBe(true);
      } else for (let i = 0; i < rowLen; i++) expect(now[i]).toBeCloseTo(z[i]!, 5);
    }
    expect(left).toBeGreaterThan(30);
    expect(left).toBeLessThan(200);
  });

  it('a larger eps zeroes groups that stay inside the plain half-space', () => {
    const x = { w: Float32Array.from([1, 0, 0, 1]) };
    const g = { w: Float32Array.from([4, 0, 0, 0]) }; // group 0 steps to 0.6 along itself: inside {z.x >= 0}, outside {z.x >= 0.7 |x|^2}
    const a = { w: Float32Array.from(x.w) };
    halfSpaceStep(a, g, 2, 0.1, 0);
    expect(a.w[0]).toBeCloseTo(0.6, 6);
    const b = { w: Float32Array.from(x.w) };
    halfSpaceStep(b, g, 2, 0.1, 0, 0.7);
    expect(Array.from(b.w)).toEqual([0, 0, 0, 1]);
  });

  it('groups are the output channels of each regularised weight, with its bias; the penalty is lambda sum sqrt(|g|) |w_g|', () => {
    const params: ParamSet = new Map([
      ['c.weight', Float32Array.from([3, 4, 0, 0, 0, 0, 1, 0])], // [4, 2]: rows (3,4), (0,0), (0,0), (1,0)
      ['c.bias', Float32Array.from([0, 0, 2, 0])],
      ['n.weight', Float32Array.from([1, 1])], // [2, 1] without a bias
    ]);
    const shapes = new Map([
      ['c.weight', [4, 2]],
      ['c.bias', [4]],
      ['n.weight', [2, 1]],
    ]);
    const groups = channelGroups(['c.weight', 'n.weight'], params, shapes);
    expect(groups).toEqual([
      { weight: 'c.weight', bias: 'c.bias', out: 4, rowLen: 2 },
      { weight: 'n.weight', out: 2, rowLen: 1 },
    ]);
    expect(zeroGroups(params, groups[0]!)).toEqual([false, true, false, false]);
    expect(groupPenalty(params, groups, 0.5)).toBeCloseTo(0.5 * (Math.sqrt(3) * (5 + 2 + 1) + 2), 6);
    const opt = new OBProx({ type: 'obprox', lambda: 1, proxSteps: 1, orthantSteps: 0, penalty: 'group' }, params, shapes);
    expect([...opt.regularized].sort()).toEqual(['c.bias', 'c.weight', 'n.weight']);
    expect(new OBProx({ type: 'obprox', lambda: 1, proxSteps: 1, orthantSteps: 0 }, params, shapes).groups).toEqual([]);
    expect(
      () => new OBProx({ type: 'obprox', lambda: 1, proxSteps: 1, orthantSteps: 0, penalty: 'lasso' as 'l1' }, params, shapes),
    ).toThrow(/penalty must be l1, group or coupled/);
  });
});

describe('OBProx-SG with the group penalty on a group lasso with a known solution', () => {
  it('finds the exact group support and the optimal objective of min 1/(2n)|Xw - y|^2 + lambda sum sqrt(|g|) |w_g|', () => {
    const rng = Rng.seeded(11);
    const n = 96;
    const groups = 8;
    const size = 4; // the weight is [8, 4]: group o is row o
    const d = groups * size;
    const X = orthogonalDesign(n, d, rng);
    // Strong groups and weak (noise-level) ones.
    const truth = Float64Array.from({ length: d }, (_, j) =>
      Math.floor(j / size) % 3 === 0 ? rng.uniform(-1, 1) : 0.05 * rng.uniform(-1, 1),
    );
    const y = Float64Array.from({ length: n }, (_, i) => X.reduce((a, c, j) => a + c[i]! * truth[j]!, 0) + 0.05 * rng.normal());
    const lambda = 0.1;
    const t = lambda * Math.sqrt(size);
    // Orthogonal design: the solution is group soft-thresholding of the least-squares solution X^T y / n.
    const ls = X.map((c) => c.reduce((a, x, i) => a + x * y[i]!, 0) / n);
    const optimum = new Float64Array(d);
    for (let o = 0; o < groups; o++) {
      const row = ls.slice(o * size, (o + 1) * size);
      const scale = Math.max(0, 1 - t / norm(row));
      for (let i = 0; i < size; i++) optimum[o * size + i] = row[i]! * scale;
    }
    const support = Array.from({ length: groups }, (_, o) => optimum.slice(o * size, (o + 1) * size).some((v) => v !== 0));
    expect(support.filter(Boolean).length).toBeGreaterThan(1);
    expect(support.filter((s) => !s).length).toBeGreaterThan(1);

    const objective = (w: ArrayLike<number>) => {
      let pen = 0;
      for (let o = 0; o < groups; o++) pen += Math.sqrt(size) * norm(Array.from({ length: size }, (_, i) => w[o * size + i]!));
      return halfMeanSquaredResidual(X, y, w) + lambda * pen;
    };
    const w = Float32Array.from({ length: d }, () => rng.uniform(-1, 1));
    const params: ParamSet = new Map([['lasso.weight', w]]);
    const opt = new OBProx(
      // 8 Prox-SG steps settle the support, not the values (0.7^8 of the error is left): the half-space steps converge.
      { type: 'obprox', lambda, proxSteps: 8, orthantSteps: 0, penalty: 'group' },
      params,
      new Map([['lasso.weight', [groups, size]]]),
    );
    for (let t = 0; t < 150; t++) {
      const r = Float64Array.from({ length: n }, (_, i) => X.reduce((a, c, j) => a + c[i]! * w[j]!, 0) - y[i]!);
      const g = Float32Array.from(X, (c) => c.reduce((a, x, i) => a + x * r[i]!, 0) / n);
      opt.step(params, new Map([['lasso.weight', g]]), 0.3);
    }
    expect(opt.phase).toBe('orthant');
    expect(Array.from({ length: groups }, (_, o) => w.subarray(o * size, (o + 1) * size).some((v) => v !== 0))).toEqual(support);
    for (let j = 0; j < d; j++) expect(Math.abs(w[j]! - optimum[j]!)).toBeLessThan(1e-5);
    expect(Math.abs(objective(w) - objective(optimum))).toBeLessThan(1e-6);
    const optimalPenalty = Array.from({ length: groups }, (_, o) => t * norm(optimum.slice(o * size, (o + 1) * size))).reduce(
      (a, v) => a + v,
    );
    expect(groupPenalty(params, opt.groups, lambda)).toBeCloseTo(optimalPenalty, 5);
  });
});
