import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { float32Tensor } from '../../engine/io/tensor';
import type { TrainImage } from '../../engine/train/crops';
import { planarFromUint8 } from '../../engine/train/dataset';
import { initParams } from '../../engine/train/init';
import { Rng } from '../../engine/train/rng';
import { attachTeacherOutputs } from '../../engine/train/teacher';
import type * as Model from '../../engine/upscale/model';
import { modelParamShapes } from '../../engine/zoo/build';
import { ImageModel } from '../../engine/zoo/infer';
import { presetConfig } from '../../engine/zoo/presets';

// Counts teacher loads: a run whose outputs are all cached must not load (parse) the teacher.
const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../engine/upscale/model', async (importOriginal) => {
  const real = await importOriginal<typeof Model>();
  return {
    ...real,
    modelFromPreset: (...args: Parameters<typeof real.modelFromPreset>) => (loads.count++, real.modelFromPreset(...args)),
  };
});

let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function image(name: string, w: number, h: number, seed: number): TrainImage {
  const rng = Rng.seeded(seed);
  return { name, width: w, height: h, lr: Uint8Array.from({ length: 3 * w * h }, () => rng.int(256)), hr: new Uint8Array(12 * w * h) };
}

describe('teacher-output cache', () => {
  it('stores the teacher output of each image once and reads it back on the next run', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-teacher-'));
    const config = presetConfig('edsr-mini');
    const weights = initParams('edsr', modelParamShapes(config), 3);
    const sd = new Map([...modelParamShapes(config)].map(([k, s]) => [k, float32Tensor(s, weights.get(k)!)]));
    const weightsPath = path.join(dir, 'teacher.safetensors');
    await saveSafetensors(weightsPath, sd);
    const teacher = { type: 'preset' as const, preset: 'edsr-mini', weights: weightsPath };
    const images = [image('a', 12, 10, 1), image('b', 9, 14, 2), image('c', 12, 10, 3)];
    const cacheDir = path.join(dir, 'cache');

    let computed = -1;
    loads.count = 0;
    const first = await attachTeacherOutputs(images, teacher, { cacheDir, scale: 2, onProgress: (_d, _t, c) => (computed = c) });
    expect(computed).toBe(3);
    expect(loads.count).toBe(1);
    const reference = await ImageModel.fromWeights(config, sd);
    for (const [i, im] of first.entries()) {
      expect(im.name).toBe(images[i]!.name);
      const want = await reference.upscale(planarFromUint8(im.lr, im.width, im.height));
      const got = im.teacher!;
      expect(got.length).toBe(3 * 4 * im.width * im.height);
      let maxDiff = 0;
      for (let j = 0; j < got.length; j++)
        maxDiff = Math.max(maxDiff, Math.abs(got[j]! - Math.round(Math.min(1, Math.max(0, want.data[j]!)) * 255)));
      expect(maxDiff).toBeLessThanOrEqual(1); // uint8 storage; float noise may flip a rounding
    }
    await reference.release();

    const again = await attachTeacherOutputs(images, teacher, { cacheDir, scale: 2, onProgress: (_d, _t, c) => (computed = c) });
    expect(computed).toBe(0);
    expect(loads.count).toBe(1); // all cached: the teacher was not loaded again
    expect(Array.from(again[1]!.teacher!)).toEqual(Array.from(first[1]!.teacher!));

    // Other weights: another cache folder, recomputed.
    weights.get('conv_last.bias')![0]! += 0.5;
    await saveSafetensors(weightsPath, new Map([...modelParamShapes(config)].map(([k, s]) => [k, float32Tensor(s, weights.get(k)!)])));
    await attachTeacherOutputs(images.slice(0, 1), teacher, { cacheDir, scale: 2, onProgress: (_d, _t, c) => (computed = c) });
    expect(computed).toBe(1);
    expect((await readdir(path.join(cacheDir, 'teacher-v1'))).length).toBe(2);
  });

  it('tiles images larger than the tile and matches the whole-image result', async () => {
    const config = presetConfig('edsr-mini');
    const shapes = modelParamShapes(config);
    const weights = initParams('edsr', shapes, 8);
    const sd = new Map([...shapes].map(([k, s]) => [k, float32Tensor(s, weights.get(k)!)]));
    const weightsPath = path.join(dir, 'tiled.safetensors');
    await saveSafetensors(weightsPath, sd);
    const big = image('big', 100, 60, 4);
    const [got] = await attachTeacherOutputs(
      [big],
      { type: 'preset', preset: 'edsr-mini', weights: weightsPath },
      { cacheDir: path.join(dir, 'cache-tiled'), scale: 2, tile: 48 },
    );
    const reference = await ImageModel.fromWeights(config, sd);
    const want = await reference.upscale(planarFromUint8(big.lr, 100, 60));
    await reference.release();
    let maxDiff = 0;
    for (let j = 0; j < want.data.length; j++)
      maxDiff = Math.max(maxDiff, Math.abs(got!.teacher![j]! - Math.round(Math.min(1, Math.max(0, want.data[j]!)) * 255)));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('runs a x2 teacher twice for a x4 student, cached apart from its one-pass outputs', async () => {
    const config = presetConfig('edsr-mini');
    const shapes = modelParamShapes(config);
    const weights = initParams('edsr', shapes, 5);
    const sd = new Map([...shapes].map(([k, s]) => [k, float32Tensor(s, weights.get(k)!)]));
    const weightsPath = path.join(dir, 'passes.safetensors');
    await saveSafetensors(weightsPath, sd);
    const teacher = { type: 'preset' as const, preset: 'edsr-mini', weights: weightsPath };
    const cacheDir = path.join(dir, 'cache-passes');
    const im = { ...image('p', 11, 9, 6), hr: new Uint8Array(3 * 16 * 11 * 9) };
    const [x4] = await attachTeacherOutputs([im], teacher, { cacheDir, scale: 4 });
    const [x2] = await attachTeacherOutputs([im], teacher, { cacheDir, scale: 2 });
    const reference = await ImageModel.fromWeights(config, sd);
    const once = await reference.upscale(planarFromUint8(im.lr, 11, 9));
    const twice = await reference.upscale(once);
    await reference.release();
    const maxDiff = (got: Uint8Array, want: Float32Array): number => {
      expect(got.length).toBe(want.length);
      let m = 0;
      for (let j = 0; j < want.length; j++) m = Math.max(m, Math.abs(got[j]! - Math.round(Math.min(1, Math.max(0, want[j]!)) * 255)));
      return m;
    };
    expect(maxDiff(x4!.teacher!, twice.data)).toBeLessThanOrEqual(1);
    expect(maxDiff(x2!.teacher!, once.data)).toBeLessThanOrEqual(1);
    // Both stay cached: a second x4 run (and x2 run) computes nothing and loads no teacher.
    let computed = -1;
    loads.count = 0;
    const [again] = await attachTeacherOutputs([im], teacher, { cacheDir, scale: 4, onProgress: (_d, _t, c) => (computed = c) });
    expect(computed).toBe(0);
    expect(Array.from(again!.teacher!)).toEqual(Array.from(x4!.teacher!));
    const [again2] = await attachTeacherOutputs([im], teacher, { cacheDir, scale: 2 });
    expect(Array.from(again2!.teacher!)).toEqual(Array.from(x2!.teacher!));
    expect(loads.count).toBe(0);
    await expect(attachTeacherOutputs([im], teacher, { cacheDir, scale: 3 })).rejects.toThrow(/teacher is x2, the student x3/);
  });

  it('names an unreadable teacher', async () => {
    await expect(
      attachTeacherOutputs(
        [image('a', 4, 4, 1)],
        { type: 'onnx', path: path.join(dir ?? tmpdir(), 'missing.onnx') },
        { cacheDir: dir ?? tmpdir(), scale: 2 },
      ),
    ).rejects.toThrow(/cannot read .*missing.onnx/);
  });
});
