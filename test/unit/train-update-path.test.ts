import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateDict } from '../../engine/io/checkpoint';
import { validateTrainConfig, type TrainConfig } from '../../engine/train/config';
import { Trainer } from '../../engine/train/trainer';
import { configFromFlags } from '../../scripts/cli/commands/train';
import { writeSmoothImages } from '../helpers/train-images';
import { relErr } from './autodiff-helpers';

/**
 * The trainer's two update paths (config `update`): `host` (gradients back, optim.ts) and
 * `graph` (Adam, clipping and the EMA in the step graph, state kept by ResidentTrainStep and read
 * back for checkpoints). On the CPU EP both must train alike, write the same checkpoint format,
 * and the graph path must resume from its checkpoints bit for bit.
 */

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-update-path-'));
  await writeSmoothImages(dir, { count: 3, seed: 12, noise: [8, 8], size: [40, 32], prefix: 'img' });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function config(overrides: Record<string, unknown> = {}): TrainConfig {
  return validateTrainConfig({
    model: { family: 'edsr', num_feat: 4, num_block: 1 },
    data: { dir },
    steps: 10,
    batch: 2,
    patch: 8,
    seed: 3,
    optim: { lr: 1e-2, weightDecay: 1e-3 },
    schedule: { type: 'cosine', etaMin: 1e-4 },
    warmup: 2,
    gradClip: 0.5,
    checkpointInterval: 4,
    cacheDir: path.join(dir, 'cache'),
    worker: false,
    threads: 1,
    ...overrides,
  });
}

describe('update paths', () => {
  it('host and in-graph updates give the same losses and the same checkpoint (same keys, values within float rounding)', async () => {
    const host = await new Trainer(config({ update: 'host' }), path.join(dir, 'host'), { export: false }).run();
    const graph = await new Trainer(config({ update: 'graph' }), path.join(dir, 'graph'), { export: false }).run();
    expect(graph.history.loss).toHaveLength(10);
    graph.history.loss.forEach((l, i) =>
      expect(Math.abs(l - host.history.loss[i]!) / host.history.loss[i]!, `step ${i}`).toBeLessThan(1e-4),
    );
    const [a, b] = await Promise.all(
      ['host', 'graph'].map((d) => loadStateDict(path.join(dir, d, 'checkpoints', 'step_0000010.safetensors'))),
    );
    expect([...b!.keys()].sort()).toEqual([...a!.keys()].sort());
    for (const [k, t] of a!) expect(relErr(b!.get(k)!.data as Float32Array, t.data as Float32Array), k).toBeLessThan(1e-3);
    expect([...a!.keys()].some((k) => k.startsWith('adam.v/'))).toBe(true);
  });

  it('the in-graph update resumes after a crash from the last periodic checkpoint and repeats the same losses exactly', async () => {
    const whole = await new Trainer(config({ update: 'graph' }), path.join(dir, 'graph-whole'), { export: false }).run();
    const out = path.join(dir, 'graph-crash');
    const crashing = new Trainer(config({ update: 'graph' }), out, { export: false });
    crashing.on('progress', (p) => {
      if (p.step === 6) throw new Error('simulated crash');
    });
    await expect(crashing.run()).rejects.toThrow(/simulated crash/);
    expect(await readdir(path.join(out, 'checkpoints'))).toContain('step_0000004.safetensors');
    const resumed = await new Trainer(config({ update: 'graph' }), out, { resume: true, export: false }).run();
    expect(resumed.step).toBe(10);
    expect(resumed.history.loss).toEqual(whole.history.loss);
  });

  it('minisr train --update sets it', async () => {
    const raw = await configFromFlags({ worker: true, augment: true, data: dir, steps: 5, update: 'host' }, { preset: 'edsr-mini' });
    expect(validateTrainConfig(raw).update).toBe('host');
  });

  it('validates the update field', () => {
    expect(config().update).toBe('auto');
    expect(() => config({ update: 'device' })).toThrow(/update must be auto, host or graph/);
    expect(() => config({ update: 'graph', optim: { type: 'obprox', lr: 1e-2, lambda: 1e-3 }, emaDecay: 0 })).toThrow(
      /update graph needs optim.type adam or adamw/,
    );
  });
});
