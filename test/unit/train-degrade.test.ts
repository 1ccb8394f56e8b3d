import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateTrainConfig } from '../../engine/train/config';
import { makeBatch, type TrainImage } from '../../engine/train/crops';
import { degradeBatch, drawDegradation, PHOTO_DEGRADE } from '../../engine/train/degrade';
import { Rng } from '../../engine/train/rng';
import { Trainer } from '../../engine/train/trainer';
import { writeSmoothImages } from '../helpers/train-images';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-degrade-'));
  await writeSmoothImages(dir, { count: 3, seed: 11, noise: [8, 8], size: [40, 32], prefix: 'img' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function image(seed: number): TrainImage {
  // Smooth, photo-like content: what blur and JPEG leave nearly alone.
  const w = 24;
  const lr = Uint8Array.from({ length: 3 * w * w }, (_, i) => {
    const [c, y, x] = [Math.floor(i / (w * w)), Math.floor(i / w) % w, i % w];
    return Math.round(110 + 40 * Math.sin(x / 3 + c + seed) + 30 * Math.cos(y / 4));
  });
  const hr = Uint8Array.from({ length: 3 * 4 * w * w }, (_, i) => i % 256);
  return { name: `im${seed}`, width: w, height: w, lr, hr };
}

const spec = { batch: 4, patch: 16, scale: 2, augment: true, seed: 5 };

describe('photo degradation', () => {
  it('is a function of (seed, step, sample): same bytes again, other bytes at another step; targets stay clean', async () => {
    const images = [image(1), image(2)];
    const clean = makeBatch(images, spec, 3);
    const a = await degradeBatch(clean, 16, PHOTO_DEGRADE, 5);
    const b = await degradeBatch(makeBatch(images, spec, 3), 16, PHOTO_DEGRADE, 5);
    expect(Buffer.from(a.lr.buffer).equals(Buffer.from(b.lr.buffer))).toBe(true);
    expect(a.hr).toBe(clean.hr);
    expect(Array.from(clean.lr)).toEqual(Array.from(makeBatch(images, spec, 3).lr)); // the clean batch is not touched
    const meanAbs = a.lr.reduce((s, v, i) => s + Math.abs(v - clean.lr[i]!), 0) / a.lr.length;
    expect(meanAbs).toBeGreaterThan(0.5 / 255); // JPEG at q <= 95 changes the patch
    expect(meanAbs).toBeLessThan(8 / 255); // but mildly
    const other = await degradeBatch(clean, 16, PHOTO_DEGRADE, 6);
    expect(Buffer.from(other.lr.buffer).equals(Buffer.from(a.lr.buffer))).toBe(false);
  });

  it('draws quality within the range, noise and blur on about half the samples', () => {
    const draws = Array.from({ length: 400 }, (_, i) => drawDegradation(PHOTO_DEGRADE, Rng.seeded(1, 3, i))!);
    expect(Math.min(...draws.map((d) => d.quality))).toBe(50);
    expect(Math.max(...draws.map((d) => d.quality))).toBe(95);
    const noisy = draws.filter((d) => d.noise > 0).length;
    const blurred = draws.filter((d) => d.blur > 0).length;
    expect(noisy).toBeGreaterThan(150);
    expect(noisy).toBeLessThan(250);
    expect(blurred).toBeGreaterThan(150);
    expect(Math.min(...draws.filter((d) => d.blur > 0).map((d) => d.blur))).toBeGreaterThanOrEqual(0.3);
    expect(Math.max(...draws.map((d) => d.noise))).toBeLessThanOrEqual(5);
  });

  it('leaves the clean fraction of samples untouched, seeded, and keeps the draws of runs without it', async () => {
    const images = [image(1), image(2)];
    const spec8 = { ...spec, batch: 8 };
    const clean = makeBatch(images, spec8, 3);
    const mixed = { ...PHOTO_DEGRADE, clean: 0.5 };
    const a = await degradeBatch(clean, 16, mixed, 5);
    const b = await degradeBatch(makeBatch(images, spec8, 3), 16, mixed, 5);
    expect(Buffer.from(a.lr.buffer).equals(Buffer.from(b.lr.buffer))).toBe(true);
    const size = 3 * 16 * 16;
    const same = Array.from({ length: 8 }, (_, i) => a.lr.subarray(i * size, (i + 1) * size).every((v, j) => v === clean.lr[i * size + j]));
    expect(same.filter(Boolean).length).toBeGreaterThan(0); // some samples kept clean
    expect(same.filter((s) => !s).length).toBeGreaterThan(0); // the others degraded
    const kept = Array.from({ length: 1000 }, (_, i) => drawDegradation(mixed, Rng.seeded(1, 3, i)) === null).filter(Boolean);
    expect(kept.length).toBeGreaterThan(450);
    expect(kept.length).toBeLessThan(550);
    // Without `clean` (or 0) the stream is drawn exactly as before the option existed.
    const zero = { ...PHOTO_DEGRADE, clean: 0 };
    for (let i = 0; i < 20; i++)
      expect(drawDegradation(zero, Rng.seeded(1, 3, i))).toEqual(drawDegradation(PHOTO_DEGRADE, Rng.seeded(1, 3, i)));
    expect(validateTrainConfig({ preset: 'edsr-mini', data: { dir }, steps: 5, degrade: { clean: 0.5 } }).degrade).toEqual(mixed);
    expect(() => validateTrainConfig({ preset: 'edsr-mini', data: { dir }, steps: 5, degrade: { clean: 1.5 } })).toThrow(/degrade.clean/);
  });

  it('a killed and resumed photo run repeats the same losses', async () => {
    const config = validateTrainConfig({
      model: { family: 'edsr', num_feat: 4, num_block: 1 },
      data: { dir },
      steps: 4,
      batch: 2,
      patch: 8,
      seed: 5,
      optim: { lr: 1e-2 },
      schedule: { type: 'constant' },
      checkpointInterval: 2,
      cacheDir: path.join(dir, 'cache'),
      worker: false,
      threads: 1,
      degrade: 'photo',
    });
    const clean = await new Trainer({ ...config, degrade: undefined }, path.join(dir, 'clean'), { export: false }).run();
    const whole = await new Trainer(config, path.join(dir, 'whole'), { export: false }).run();
    expect(whole.history.loss).not.toEqual(clean.history.loss); // the inputs were degraded
    const out = path.join(dir, 'crash');
    const crashing = new Trainer(config, out, { export: false });
    crashing.on('progress', (p) => {
      if (p.step === 3) throw new Error('simulated crash');
    });
    await expect(crashing.run()).rejects.toThrow(/simulated crash/);
    const resumed = await new Trainer(config, out, { resume: true, export: false }).run();
    expect(resumed.history.loss).toEqual(whole.history.loss);
  });

  it('rejects bad settings naming the field', () => {
    const base = { preset: 'edsr-mini', data: { dir }, steps: 1 };
    expect(validateTrainConfig({ ...base, degrade: 'photo' }).degrade).toEqual(PHOTO_DEGRADE);
    expect(() => validateTrainConfig({ ...base, degrade: { jpeg: [90, 50] } })).toThrow(/degrade.jpeg\[1\]/);
    expect(() => validateTrainConfig({ ...base, degrade: { jpeg: [50, 101] } })).toThrow(/at most 100/);
    expect(() => validateTrainConfig({ ...base, degrade: { sharpen: 1 } })).toThrow(/unknown field degrade.sharpen/);
    expect(() => validateTrainConfig({ ...base, degrade: 'phone' })).toThrow(/degrade must be an object/);
  });
});
