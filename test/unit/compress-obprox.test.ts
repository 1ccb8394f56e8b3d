import { describe, expect, it } from 'vitest';
import { isRegularized, l1Penalty, OBProx, obproxPhase, orthantStep, proxStep } from '../../engine/compress/obprox';
import type { OBProxSettings, ParamSet } from '../../engine/train/optim';
import { Rng } from '../../engine/train/rng';
import { halfMeanSquaredResidual, orthogonalDesign } from './lasso-helpers';

const soft = (z: number, t: number) => Math.sign(z) * Math.max(Math.abs(z) - t, 0);

describe('OBProx-SG steps', () => {
  it('a Prox-SG step equals the soft-threshold closed form', () => {
    const rng = Rng.seeded(3);
    const w = Float32Array.from({ length: 200 }, () => rng.uniform(-1, 1));
    const g = Float32Array.from({ length: 200 }, () => rng.uniform(-2, 2));
    const p = Float32Array.from(w);
    const lr = 0.1;
    const lambda = 2.5;
    proxStep(p, g, lr, lr * lambda);
    let zeros = 0;
    for (let i = 0; i < w.length; i++) {
      expect(p[i]).toBeCloseTo(soft(w[i]! - lr * g[i]!, lr * lambda), 6);
      if (p[i] === 0) zeros++;
    }
    expect(zeros).toBeGreaterThan(20); // the threshold 0.25 zeroes a good share of U(-1.2, 1.2)
  });

  it('an orthant step never flips a sign and keeps zeros at zero', () => {
    const rng = Rng.seeded(4);
    const w = Float32Array.from({ length: 500 }, (_, i) => (i % 5 === 0 ? 0 : rng.uniform(-1, 1)));
    const g = Float32Array.from({ length: 500 }, () => rng.uniform(-20, 20)); // large: many would cross zero
    const p = Float32Array.from(w);
    const lr = 0.1;
    const lambda = 0.3;
    orthantStep(p, g, lr, lambda);
    let crossed = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i] === 0) expect(p[i]).toBe(0);
      else expect(p[i]! * w[i]!).toBeGreaterThanOrEqual(0);
      const z = w[i]! - lr * (g[i]! + lambda * Math.sign(w[i]!));
      if (w[i] !== 0 && Math.sign(z) !== Math.sign(w[i]!)) {
        crossed++;
        expect(p[i]).toBe(0);
      } else if (w[i] !== 0) expect(p[i]).toBeCloseTo(z, 6);
    }
    expect(crossed).toBeGreaterThan(50);
  });

  it('the switch rule: N_P prox steps then N_O orthant steps, repeating; N_O 0 stays in orthant steps', () => {
    const phases = (s: Pick<OBProxSettings, 'proxSteps' | 'orthantSteps'>) =>
      Array.from({ length: 7 }, (_, t) => obproxPhase(s, t)[0]).join('');
    expect(phases({ proxSteps: 2, orthantSteps: 3 })).toBe('ppooopp');
    expect(phases({ proxSteps: 3, orthantSteps: 0 })).toBe('pppoooo');
  });

  it('regularises conv/linear weights only, and unregularised parameters take plain SGD steps', () => {
    expect(isRegularized('body.0.conv1.weight', [4, 4, 3, 3])).toBe(true);
    expect(isRegularized('layers.0.residual_group.blocks.0.mlp.fc1.weight', [8, 4])).toBe(true);
    expect(isRegularized('body.0.conv1.bias', [4])).toBe(false);
    expect(isRegularized('layers.0.residual_group.blocks.0.norm1.weight', [4])).toBe(false);
    expect(isRegularized('layers.0.residual_group.blocks.0.attn.relative_position_bias_table', [225, 6])).toBe(false);
    const params: ParamSet = new Map([
      ['c.weight', Float32Array.from([0.05, -0.5])],
      ['c.bias', Float32Array.from([0.05, -0.5])],
    ]);
    const opt = new OBProx(
      { type: 'obprox', lambda: 1, proxSteps: 1, orthantSteps: 0 },
      params,
      new Map([
        ['c.weight', [2, 1]],
        ['c.bias', [2]],
      ]),
    );
    const g = Float32Array.from([0, 0]);
    expect(
      opt.step(
        params,
        new Map([
          ['c.weight', g],
          ['c.bias', g],
        ]),
        0.1,
      ),
    ).toBe('prox');
    expect(Array.from(params.get('c.weight')!)).toEqual([0, expect.closeTo(-0.4, 6)]);
    expect(Array.from(params.get('c.bias')!)).toEqual([expect.closeTo(0.05, 7), expect.closeTo(-0.5, 7)]);
    expect(opt.stepCount).toBe(1);
    expect(opt.phase).toBe('orthant');
  });

  it('resumes from a saved step counter and rejects bad settings naming the field', () => {
    const params: ParamSet = new Map([['c.weight', new Float32Array(4)]]);
    const shapes = new Map([['c.weight', [2, 2]]]);
    const opt = new OBProx({ type: 'obprox', lambda: 1, proxSteps: 5, orthantSteps: 0 }, params, shapes, { step: 7, buffers: new Map() });
    expect(opt.phase).toBe('orthant');
    expect(() => new OBProx({ type: 'obprox', lambda: -1, proxSteps: 5, orthantSteps: 0 }, params, shapes)).toThrow(/lambda/);
    expect(() => new OBProx({ type: 'obprox', lambda: 1, proxSteps: 1.5, orthantSteps: 0 }, params, shapes)).toThrow(/proxSteps/);
    expect(() => new OBProx({ type: 'obprox', lambda: 1, proxSteps: 0, orthantSteps: 3 }, params, shapes)).toThrow(/proxSteps/);
  });
});

describe('OBProx-SG on a lasso problem with a known solution', () => {
  it('finds the exact support and the optimal objective of min 1/(2n)|Xw - y|^2 + lambda |w|_1', () => {
    const rng = Rng.seeded(9);
    const n = 64;
    const d = 16;
    const X = orthogonalDesign(n, d, rng);
    const truth = Float64Array.from({ length: d }, (_, j) => (j % 3 === 0 ? (j % 2 ? 1 : -1) * (0.5 + j / 10) : 0.05 * rng.uniform(-1, 1)));
    const y = Float64Array.from({ length: n }, (_, i) => X.reduce((a, c, j) => a + c[i]! * truth[j]!, 0) + 0.05 * rng.normal());
    const lambda = 0.2;
    // Orthogonal design: the lasso solution is the soft-thresholded least-squares solution X^T y / n.
    const ls = X.map((c) => c.reduce((a, x, i) => a + x * y[i]!, 0) / n);
    const optimum = ls.map((b) => soft(b, lambda));
    const support = optimum.map((v) => v !== 0);
    expect(support.filter(Boolean).length).toBeGreaterThan(2);
    expect(support.filter((s) => !s).length).toBeGreaterThan(2);

    const objective = (w: ArrayLike<number>) => {
      let l1 = 0;
      for (let j = 0; j < d; j++) l1 += Math.abs(w[j]!);
      return halfMeanSquaredResidual(X, y, w) + lambda * l1;
    };
    const w = Float32Array.from({ length: d }, () => rng.uniform(-1, 1));
    const params: ParamSet = new Map([['lasso.weight', w]]);
    const opt = new OBProx({ type: 'obprox', lambda, proxSteps: 30, orthantSteps: 0 }, params, new Map([['lasso.weight', [1, d]]]));
    const phases: string[] = [];
    for (let t = 0; t < 120; t++) {
      // Gradient of the smooth part: X^T (X w - y) / n.
      const r = Float64Array.from({ length: n }, (_, i) => X.reduce((a, c, j) => a + c[i]! * w[j]!, 0) - y[i]!);
      const g = Float32Array.from(X, (c) => c.reduce((a, x, i) => a + x * r[i]!, 0) / n);
      phases.push(opt.step(params, new Map([['lasso.weight', g]]), 0.3));
    }
    expect(phases.slice(28, 32)).toEqual(['prox', 'prox', 'orthant', 'orthant']);
    expect(Array.from(w, (v) => v !== 0)).toEqual(support);
    for (let j = 0; j < d; j++) expect(Math.abs(w[j]! - optimum[j]!)).toBeLessThan(1e-5);
    expect(Math.abs(objective(w) - objective(optimum))).toBeLessThan(1e-6);
    expect(l1Penalty(params, opt.regularized, lambda)).toBeCloseTo(lambda * optimum.reduce((a, v) => a + Math.abs(v), 0), 5);
  });
});
