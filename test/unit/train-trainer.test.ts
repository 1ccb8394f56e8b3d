import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import { float32Tensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { validateTrainConfig, type TrainConfig } from '../../engine/train/config';
import type { Batch } from '../../engine/train/crops';
import { Rng } from '../../engine/train/rng';
import type { StepResult, TrainStep } from '../../engine/train/train-graph';
import { Trainer, type ProgressEvent } from '../../engine/train/trainer';
import { writeSmoothImages } from '../helpers/train-images';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-trainer-'));
  await writeSmoothImages(dir, { count: 3, seed: 11, noise: [8, 8], size: [40, 32], prefix: 'img' });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * A hand-written training graph for a linear model, so gradients are known analytically:
 * pred = X W (X: each LR patch flattened), target = each HR patch's mean, loss = mean((pred - y)^2),
 * dL/dW = 2/N X^T (pred - y), built with plain builder ops.
 */
async function linearStep(n: number, p: number): Promise<TrainStep & { session: ModelSession }> {
  const k = 3 * p * p;
  const g = new Graph('linear');
  const x = g.input('x', [n, k]);
  const y = g.input('y', [n, 1]);
  const w = g.param('w', [k, 1]);
  const r = g.sub(g.matmul(x, w), y);
  g.output(g.reduceMean(g.mul(r, r), undefined, false), 'loss');
  g.output(g.mul(g.matmul(g.transpose(x, [1, 0]), r), g.scalar(2 / n)), 'grad.w');
  const session = await ModelSession.create(toOnnx(g, { params: 'inputs' }));
  return {
    session,
    paramKeys: ['w'],
    paramShapes: new Map([['w', [k, 1]]]),
    async run(params, batch: Batch): Promise<StepResult> {
      const hrPer = batch.hr.length / n;
      const target = Float32Array.from(
        { length: n },
        (_, i) => batch.hr.subarray(i * hrPer, (i + 1) * hrPer).reduce((a, b) => a + b, 0) / hrPer,
      );
      const out = await session.run({
        x: float32Tensor([n, k], batch.lr),
        y: float32Tensor([n, 1], target),
        w: float32Tensor([k, 1], params.get('w')!),
      });
      return { loss: (out.loss!.data as Float32Array)[0]!, grads: new Map([['w', out['grad.w']!.data as Float32Array]]) };
    },
    release: () => session.release(),
  };
}

function config(overrides: Record<string, unknown> = {}): TrainConfig {
  return validateTrainConfig({
    model: { family: 'edsr', num_feat: 4, num_block: 1 },
    data: { dir },
    steps: 12,
    batch: 2,
    patch: 6,
    seed: 5,
    optim: { lr: 1e-2 },
    schedule: { type: 'constant' },
    checkpointInterval: 4,
    cacheDir: path.join(dir, 'cache'),
    worker: false,
    threads: 1,
    ...overrides,
  });
}

describe('training step interface', () => {
  it('a hand-built linear training graph returns the analytic gradient', async () => {
    const step = await linearStep(2, 2);
    try {
      const rng = Rng.seeded(1);
      const lr = Float32Array.from({ length: 24 }, () => rng.next());
      const hr = Float32Array.from({ length: 96 }, () => rng.next());
      const w = Float32Array.from({ length: 12 }, () => rng.uniform(-1, 1));
      const { loss, grads } = await step.run(new Map([['w', w]]), { step: 0, lr, hr });
      const y = [0, 1].map((i) => hr.subarray(i * 48, (i + 1) * 48).reduce((a, b) => a + b, 0) / 48);
      const r = [0, 1].map((i) => lr.subarray(i * 12, (i + 1) * 12).reduce((a, v, j) => a + v * w[j]!, 0) - y[i]!);
      expect(loss).toBeCloseTo((r[0]! ** 2 + r[1]! ** 2) / 2, 5);
      const g = grads.get('w')!;
      for (let j = 0; j < 12; j++) expect(g[j]).toBeCloseTo(lr[j]! * r[0]! + lr[12 + j]! * r[1]!, 5);
    } finally {
      await step.release();
    }
  });
});

describe('Trainer', () => {
  it('drives Adam to lower the loss of the hand-built linear model', async () => {
    const out = path.join(dir, 'run-linear');
    const trainer = new Trainer(config({ steps: 150, patch: 2, batch: 8, optim: { lr: 2e-2 } }), out, {
      makeStep: () => linearStep(8, 2),
      export: false,
    });
    const r = await trainer.run();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.history.loss).toHaveLength(150);
    expect(mean(r.history.loss.slice(-20))).toBeLessThan(0.3 * mean(r.history.loss.slice(0, 20)));
  });

  it('emits progress, pauses, and on abort saves a checkpoint it can resume from', async () => {
    const out = path.join(dir, 'run-events');
    const trainer = new Trainer(config({ steps: 6 }), out, { export: false });
    const ac = new AbortController();
    const progress: ProgressEvent[] = [];
    const phases: string[] = [];
    trainer.on('status', (s) => phases.push(s.phase));
    const off = trainer.on('progress', (p) => {
      progress.push(p);
      if (p.step === 2) {
        trainer.pause();
        setTimeout(() => trainer.resume(), 50);
      }
      if (p.step === 3) ac.abort();
    });
    const r = await trainer.run(ac.signal);
    off();
    expect(r.aborted).toBe(true);
    expect(r.step).toBe(3);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3]);
    const p = progress[0]!;
    expect(p.totalSteps).toBe(6);
    expect(p.stepsPerSec).toBeGreaterThan(0);
    expect(p.etaSec).toBeCloseTo(5 / p.stepsPerSec, 6);
    expect(p.lr).toBe(1e-2);
    expect(phases).toContain('paused');
    expect(phases[phases.length - 1]).toBe('aborted');
    const latest = JSON.parse(await readFile(path.join(out, 'latest.json'), 'utf8'));
    expect(latest.checkpoint).toBe('checkpoints/step_0000003');
    expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')).steps).toBe(6);
    const resumed = await new Trainer(config({ steps: 6 }), out, { resume: true, export: false }).run();
    expect(resumed.step).toBe(6);
    expect(resumed.history.loss.slice(0, 3)).toEqual(r.history.loss);
    // Starting afresh over a run's checkpoints is refused.
    await expect(new Trainer(config({ steps: 6 }), out, { export: false }).run()).rejects.toThrow(/already holds a training run/);
  });

  it('stops at maxSeconds with a checkpoint, as a finished run that resumes to the full count', async () => {
    const out = path.join(dir, 'run-time-limited');
    // A budget of 0 s is spent by the first step: the run ends there, not aborted.
    const r = await new Trainer(config({ steps: 6 }), out, { export: false, maxSeconds: 0 }).run();
    expect(r).toMatchObject({ step: 1, aborted: false, timeLimited: true });
    const latest = JSON.parse(await readFile(path.join(out, 'latest.json'), 'utf8'));
    expect(latest.checkpoint).toBe('checkpoints/step_0000001');
    const resumed = await new Trainer(config({ steps: 6 }), out, { resume: true, export: false, maxSeconds: 3600 }).run();
    expect(resumed.step).toBe(6);
    expect(resumed.timeLimited).toBeUndefined();
    expect(resumed.history.loss.slice(0, 1)).toEqual(r.history.loss);
  });

  it('resumes after a crash from the last periodic checkpoint and repeats the same losses exactly', async () => {
    const whole = await new Trainer(config(), path.join(dir, 'run-whole'), { export: false }).run();
    expect(whole.history.loss).toHaveLength(12);

    const out = path.join(dir, 'run-crash');
    const crashing = new Trainer(config(), out, { export: false });
    crashing.on('progress', (p) => {
      if (p.step === 7) throw new Error('simulated crash');
    });
    await expect(crashing.run()).rejects.toThrow(/simulated crash/);
    const names = await readdir(path.join(out, 'checkpoints'));
    expect(names).toContain('step_0000004.safetensors');
    expect(names.some((n) => n.startsWith('step_0000008'))).toBe(false);

    const resumed = await new Trainer(config(), out, { resume: true, export: false }).run();
    expect(resumed.step).toBe(12);
    expect(resumed.history.loss).toEqual(whole.history.loss);
  });

  it('names a patch larger than every training image', async () => {
    await expect(new Trainer(config({ patch: 17 }), path.join(dir, 'run-big-patch'), { export: false }).run()).rejects.toThrow(
      /no training image is at least 17x17/,
    );
  });

  it('rejects bad configs naming the field', () => {
    expect(() => config({ loss: { type: 'l2' } })).toThrow(/loss.type/);
    expect(() => config({ steps: 0 })).toThrow(/steps/);
    expect(() => config({ loss: { type: 'distill' } })).toThrow(/needs a teacher/);
    expect(() => config({ lr: 1 })).toThrow(/unknown config field "lr"/);
    expect(() => validateTrainConfig({ preset: 'edsr-tiny', data: { dir }, steps: 1 })).toThrow(/unknown preset/);
  });
});
