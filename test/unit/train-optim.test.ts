import { describe, expect, it } from 'vitest';
import { Adam, clipGradNorm, Ema, globalNorm, type ParamSet } from '../../engine/train/optim';
import { learningRate, validateSchedule } from '../../engine/train/schedule';
import { Rng } from '../../engine/train/rng';

// Reference values printed by PyTorch 1.13 (torch.optim.Adam / AdamW, lr 0.1, betas (0.9, 0.99),
// eps 1e-8, weight_decay 0.01) for the same parameters and gradients.
const P0 = [0.5, -1.2, 2.0, 0.0];
const GRADS = [
  [0.3, -0.7, 1e-3, 0.0],
  [-0.2, 0.5, 2.0, 1.0],
  [0.1, 0.1, -3.0, -1.0],
];
const TORCH = {
  adam: [
    [0.400000006, -1.10000002, 1.9000001, 0.0],
    [0.383866847, -1.08690715, 1.82506311, -0.0742459819],
    [0.354209125, -1.08340001, 1.84536219, -0.0697061419],
  ],
  adamw: [
    [0.399500012, -1.09880006, 1.89800107, 0.0],
    [0.384635866, -1.08644378, 1.82182372, -0.0742459819],
    [0.35632804, -1.0840987, 1.84118569, -0.0696636736],
  ],
};

describe('Adam / AdamW', () => {
  for (const type of ['adam', 'adamw'] as const) {
    it(`${type} matches PyTorch for three steps`, () => {
      const params: ParamSet = new Map([['w', Float32Array.from(P0)]]);
      const opt = new Adam({ type, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.01 }, params);
      GRADS.forEach((g, t) => {
        opt.step(params, new Map([['w', Float32Array.from(g)]]), 0.1);
        const got = Array.from(params.get('w')!);
        TORCH[type][t]!.forEach((want, i) => expect(got[i]).toBeCloseTo(want, 6));
      });
      expect(opt.state.step).toBe(3);
    });
  }

  it('first step moves each parameter by lr * sign(grad) (bias correction)', () => {
    const params: ParamSet = new Map([['w', Float32Array.from([1, 1, 1])]]);
    new Adam({ type: 'adam', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 }, params).step(
      params,
      new Map([['w', Float32Array.from([5, -0.01, 0])]]),
      0.5,
    );
    const w = params.get('w')!;
    [0.5, 1.5, 1].forEach((want, i) => expect(w[i]).toBeCloseTo(want, 5));
  });

  it('rejects a missing gradient and bad hyper-parameters', () => {
    const params: ParamSet = new Map([['w', new Float32Array(2)]]);
    const opt = new Adam({ type: 'adam', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 }, params);
    expect(() => opt.step(params, new Map(), 0.1)).toThrow(/gradient for w/);
    expect(() => new Adam({ type: 'adam', betas: [1, 0.99], eps: 1e-8, weightDecay: 0 }, params)).toThrow(/betas/);
  });
});

describe('gradient clipping and EMA', () => {
  it('clips by global norm like torch.nn.utils.clip_grad_norm_', () => {
    const grads = new Map([
      ['a', Float32Array.from([3, 4])],
      ['b', Float32Array.from([12])],
    ]);
    expect(clipGradNorm(grads, 6.5)).toBeCloseTo(13, 6);
    expect(grads.get('a')![0]).toBeCloseTo(1.4999998807907104, 6);
    expect(grads.get('b')![0]).toBeCloseTo(5.999999523162842, 6);
    expect(globalNorm(grads)).toBeCloseTo(6.5, 5);
    // Below the limit nothing changes.
    const small = new Map([['a', Float32Array.from([0.3, 0.4])]]);
    clipGradNorm(small, 1);
    expect(Array.from(small.get('a')!)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('EMA follows decay * ema + (1 - decay) * p', () => {
    const params: ParamSet = new Map([['w', Float32Array.from([0])]]);
    const ema = new Ema(0.9, params);
    params.get('w')![0] = 1;
    ema.update(params);
    ema.update(params);
    expect(ema.weights.get('w')![0]).toBeCloseTo(1 - 0.81, 6);
    expect(params.get('w')![0]).toBe(1); // the live weights are untouched
  });
});

describe('learning-rate schedules', () => {
  it('warms up linearly then follows a cosine down to etaMin', () => {
    const plan = { baseLr: 1e-3, totalSteps: 110, warmup: 10, schedule: validateSchedule({ type: 'cosine', etaMin: 1e-5 }) };
    expect(learningRate(plan, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRate(plan, 9)).toBeCloseTo(1e-3, 12);
    expect(learningRate(plan, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRate(plan, 60)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5), 12);
    expect(learningRate(plan, 110)).toBeCloseTo(1e-5, 12);
  });

  it('multistep multiplies by gamma at each milestone', () => {
    const plan = {
      baseLr: 2e-4,
      totalSteps: 1000,
      warmup: 0,
      schedule: validateSchedule({ type: 'multistep', milestones: [500, 200], gamma: 0.5 }),
    };
    expect(learningRate(plan, 199)).toBe(2e-4);
    expect(learningRate(plan, 200)).toBe(1e-4);
    expect(learningRate(plan, 500)).toBe(5e-5);
  });

  it('rejects unknown schedule types naming the field', () => {
    expect(() => validateSchedule({ type: 'step' })).toThrow(/schedule.type/);
    expect(() => validateSchedule({ type: 'multistep', milestones: [1.5] })).toThrow(/milestones/);
  });

  it('shows the bad value itself, not [object Object]', () => {
    expect(() => validateSchedule({ type: 'cosine', etaMin: { v: 1 } })).toThrow('schedule.etaMin must be a number >= 0, got {"v":1}');
    expect(() => validateSchedule({ type: 'cosine', etaMin: '1e-7' })).toThrow('got "1e-7"');
    expect(() => validateSchedule({ type: 'cosine', etaMin: NaN })).toThrow('got NaN');
    expect(() => validateSchedule({ type: 'multistep', milestones: [1], gamma: [0.5] })).toThrow(
      'schedule.gamma must be positive, got [0.5]',
    );
  });
});

describe('Rng', () => {
  it('is deterministic per key and restorable from its state', () => {
    const a = Rng.seeded(42, 7);
    const b = Rng.seeded(42, 7);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Rng.seeded(42, 8).nextUint32()).not.toBe(xs[0]);
    const s = a.state();
    const next = a.next();
    expect(Rng.fromState(s).next()).toBe(next);
  });

  it('draws roughly uniform integers and unit normals', () => {
    const r = Rng.seeded(1);
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 80000; i++) counts[r.int(8)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.03);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.05);
  });
});
