import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateTrainConfig } from '../../engine/train/config';
import { initParams } from '../../engine/train/init';
import { Rng } from '../../engine/train/rng';
import { OnnxTrainStep } from '../../engine/train/train-graph';
import { Trainer } from '../../engine/train/trainer';
import { validateConfig } from '../../engine/zoo/registry';
import { configFromFlags } from '../../scripts/cli/commands/train';

/** Training on a chosen execution provider: config, flag, trial-step fallback, clear failure. */

const rawModel = { family: 'edsr', num_feat: 4, num_block: 1 };
const model = validateConfig(rawModel);
// A provider that cannot exist on this platform: its request must fail cleanly, never silently run on the CPU.
const absentEp = process.platform === 'win32' ? 'coreml' : 'dml';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-train-ep-'));
  const rng = Rng.seeded(3);
  const px = Buffer.from(Uint8Array.from({ length: 24 * 24 * 3 }, () => rng.int(256)));
  await sharp(px, { raw: { width: 24, height: 24, channels: 3 } })
    .png()
    .toFile(path.join(dir, 'a.png'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('training config ep', () => {
  const base = { model: rawModel, data: { dir: 'x' }, steps: 1 };

  it('defaults to the CPU and accepts every provider and auto', () => {
    expect(validateTrainConfig(base).ep).toBe('cpu');
    for (const ep of ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'auto']) expect(validateTrainConfig({ ...base, ep }).ep).toBe(ep);
  });

  it('rejects an unknown provider naming the field', () => {
    expect(() => validateTrainConfig({ ...base, ep: 'gpu' })).toThrow(/^ep must be cpu, cuda, dml, coreml, webgpu, auto, got "gpu"/);
  });

  it('--ep maps onto the config field', async () => {
    const raw = await configFromFlags({ worker: true, augment: true, ep: 'webgpu', steps: 3 }, { preset: 'edsr-mini' });
    expect(raw.ep).toBe('webgpu');
    expect(validateTrainConfig({ ...raw, data: { dir: 'x' } }).ep).toBe('webgpu');
  });
});

describe('OnnxTrainStep on a provider', () => {
  const shape = { batch: 2, patch: 8 };

  it('auto skips providers that are absent, runs on the next, and its trial step leaves results unchanged', async () => {
    const auto = await OnnxTrainStep.create(model, { type: 'l1' }, shape, { ep: 'auto', autoOrder: [absentEp, 'cpu'], threads: 1 });
    const cpu = await OnnxTrainStep.create(model, { type: 'l1' }, shape, { threads: 1 });
    try {
      expect(auto.ep).toBe('cpu');
      expect(auto.epReport.attempts.map((a) => [a.ep, a.outcome])).toEqual([
        [absentEp, 'skipped'],
        ['cpu', 'used'],
      ]);
      expect(cpu.ep).toBe('cpu');
      expect(cpu.epReport.attempts).toHaveLength(1);
      const params = initParams('edsr', new Map(auto.paramKeys.map((k) => [k, auto.paramShapes.get(k)!])), 1);
      const rng = Rng.seeded(4);
      const batch = {
        step: 0,
        lr: Float32Array.from({ length: 2 * 3 * 8 * 8 }, () => rng.next()),
        hr: Float32Array.from({ length: 2 * 3 * 16 * 16 }, () => rng.next()),
      };
      const [a, b] = [await auto.run(params, batch), await cpu.run(params, batch)];
      expect(a.loss).toBeGreaterThan(0);
      expect(a.loss).toBe(b.loss);
      for (const k of auto.paramKeys) expect(a.grads.get(k)).toEqual(b.grads.get(k));
    } finally {
      await auto.release();
      await cpu.release();
    }
  });

  it('a provider that is absent fails with its reason', async () => {
    await expect(OnnxTrainStep.create(model, { type: 'l1' }, shape, { ep: absentEp })).rejects.toThrow(
      new RegExp(`^execution provider ${absentEp} failed \\(${absentEp}: .*only`),
    );
  });
});

describe('Trainer on a provider', () => {
  it('stops before the first step when the configured provider is absent, and names it', async () => {
    const cfg = validateTrainConfig({
      model: rawModel,
      data: { dir },
      steps: 2,
      batch: 1,
      patch: 8,
      worker: false,
      threads: 1,
      cacheDir: path.join(dir, 'cache'),
      ep: absentEp,
    });
    const trainer = new Trainer(cfg, path.join(dir, 'run-absent'), { export: false });
    let steps = 0;
    trainer.on('progress', () => steps++);
    await expect(trainer.run()).rejects.toThrow(`execution provider ${absentEp} failed`);
    expect(steps).toBe(0);
  });
});
