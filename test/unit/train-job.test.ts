import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainConfig, runTrainJob, type TrainJobEvent } from '../../engine/train/job';
import { writeSmoothImages } from '../helpers/train-images';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-job-'));
  await writeSmoothImages(dir, { count: 2, seed: 2, noise: [6, 6], size: [24, 24], prefix: 't' });
  // A tiny validation pair in the benchmark layout.
  await sharp(path.join(dir, 't0.png')).toFile(path.join(dir, 'v_HR.png'));
  await sharp(path.join(dir, 't0.png')).resize(12, 12).png().toFile(path.join(dir, 'v_LR.png'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const raw = () => ({
  model: { family: 'edsr', num_feat: 4, num_block: 1 },
  data: { dir },
  val: { dir, interval: 3 },
  steps: 3,
  batch: 2,
  patch: 6,
  checkpointInterval: 3,
  cacheDir: path.join(dir, 'cache'),
  worker: false,
  threads: 1,
});

describe('training job', () => {
  it('forwards every trainer event tagged with its type, holds while paused, then extends a finished run on resume', async () => {
    const out = path.join(dir, 'run');
    const events: TrainJobEvent[] = [];
    const t0 = Date.now();
    const r = await runTrainJob({ outDir: out, config: raw() }, { onEvent: (e) => events.push(e), isPaused: () => Date.now() - t0 < 400 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // held until the flag cleared
    const pausedAt = events.findIndex((e) => e.type === 'status' && e.phase === 'paused');
    expect(pausedAt).toBeGreaterThanOrEqual(0);
    expect(pausedAt).toBeLessThan(events.findIndex((e) => e.type === 'progress'));
    expect(r.step).toBe(3);
    const types = new Set(events.map((e) => e.type));
    expect([...types].sort()).toEqual(['checkpoint', 'progress', 'status', 'validation']);
    const v = events.find((e) => e.type === 'validation');
    expect(v?.type === 'validation' && v.step).toBe(3);
    expect(r.exported?.onnx).toBe(path.join(out, 'model.onnx'));

    const more = await runTrainJob({ outDir: out, resume: true, steps: 5 }, {});
    expect(more.step).toBe(5);
    expect(more.history.loss.slice(0, 3)).toEqual(r.history.loss);
    expect((await resolveTrainConfig({ outDir: out, resume: true })).steps).toBe(5);
  });

  it('explains what is missing', async () => {
    await expect(resolveTrainConfig({ outDir: dir })).rejects.toThrow(/needs a config/);
    await writeFile(path.join(dir, 'config.json'), '{');
    await expect(resolveTrainConfig({ outDir: path.join(dir, 'nowhere'), resume: true })).rejects.toThrow(/training run folder/);
  });
});
