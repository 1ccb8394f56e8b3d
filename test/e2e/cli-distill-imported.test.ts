import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../engine/image/decode';
import { importKeras } from '../../engine/importers/keras';
import { modelFromOnnxFile } from '../../engine/upscale/model';
import { upscaleImage } from '../../engine/upscale/pipeline';
import { readCard } from '../../engine/zoo/card';
import { upscalerjsModelJson } from '../../scripts/bench/tfjs-upscalerjs';
import { writeSmoothImages } from '../helpers/train-images';

const CLI = path.resolve(import.meta.dirname, '../../scripts/minisr.mjs');

/**
 * `minisr distill --teacher <imported.onnx>`: UpscalerJS's esrgan-slim x2, imported with a fixed
 * 40-pixel tile (so the teacher pass tiles the 56-pixel LR images with the margin the import
 * measured), distils into EDSRmini for a few steps; the cached teacher outputs equal a
 * whole-image pass of the same model within one 8-bit level.
 */
describe('minisr distill with an imported teacher', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-distill-imported-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('distils esrgan-slim x2 (fixed tiles) into edsr-mini', async () => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    await writeSmoothImages(data, { count: 3, seed: 4, noise: [14, 14], size: [112, 112], prefix: 'img' });
    // Paired files (NAME_HR / NAME_LR): the LR images the teacher sees are these files.
    for (let i = 0; i < 3; i++) {
      const hr = path.join(data, `img${i}.png`);
      await sharp(hr).toFile(path.join(data, `img${i}_HR.png`));
      await sharp(hr)
        .resize(56, 56, { kernel: 'cubic' })
        .toFile(path.join(data, `img${i}_LR.png`));
      await rm(hr);
    }
    const teacher = path.join(dir, 'esrgan-slim-x2.onnx');
    await writeFile(teacher, (await importKeras(upscalerjsModelJson('esrgan-slim', 2), { tile: 40 })).onnx);
    const [out, cache] = [path.join(dir, 'run'), path.join(dir, 'cache')];
    const { stdout } = await promisify(execFile)(process.execPath, [
      CLI,
      'distill',
      '--teacher',
      teacher,
      '--student',
      'edsr-mini',
      '--data',
      data,
      '--steps',
      '3',
      '--batch',
      '1',
      '--patch',
      '16',
      '--out',
      out,
      '--cache-dir',
      cache,
      '--no-worker',
      '--json',
    ]);
    const result = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step?: number; aborted?: boolean })
      .find((e) => e.type === 'result');
    expect(result).toMatchObject({ step: 3, aborted: false });
    expect(await readCard(path.join(out, 'model.json'))).toMatchObject({ preset: 'edsr-mini', scale: 2 });

    // The teacher cache: one 112x112 output per image, as a whole-image pass gives it.
    const [hashDir] = await readdir(path.join(cache, 'teacher-v1'));
    const files = await readdir(path.join(cache, 'teacher-v1', hashDir!));
    expect(files).toHaveLength(3);
    const cached = await Promise.all(files.map((f) => readFile(path.join(cache, 'teacher-v1', hashDir!, f))));
    const symbolic = path.join(dir, 'whole.onnx');
    await writeFile(symbolic, (await importKeras(upscalerjsModelJson('esrgan-slim', 2))).onnx);
    const whole = await modelFromOnnxFile(symbolic);
    for (let i = 0; i < 3; i++) {
      const lr = await decodeImage(path.join(data, `img${i}_LR.png`));
      const { rgb } = await upscaleImage(lr.rgb, undefined, { model: whole, ep: 'cpu', tile: 64 });
      const expected = Uint8Array.from(rgb.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const diffs = cached.map((c) => (c.length === expected.length ? Math.max(...expected.map((v, j) => Math.abs(v - c[j]!))) : Infinity));
      expect(Math.min(...diffs)).toBeLessThanOrEqual(1);
    }
  });
});
