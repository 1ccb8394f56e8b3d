import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSet } from '../../engine/zoo/evaluate';
import { ImageModel } from '../../engine/zoo/infer';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from './upscale-helpers';

let dir: string;
const config = presetConfig('edsr-mini');

/** A benchmark folder: 001_HR.png (32x32 gradient) and its LR (`lrSide` square, sharp's cubic). */
async function benchmark(sub: string, lrSide: number): Promise<string> {
  const d = path.join(dir, sub);
  const px = Buffer.from(Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (Math.floor(i / 3) % 32) * 6 + ((i * 7) % 3) * 20));
  const hr = sharp(px, { raw: { width: 32, height: 32, channels: 3 } });
  await mkdir(d, { recursive: true });
  await hr.clone().png().toFile(path.join(d, '001_HR.png'));
  await hr.clone().resize(lrSide, lrSide, { kernel: 'cubic' }).png().toFile(path.join(d, '001_LR.png'));
  return d;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-eval-opts-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('evaluateSet options', () => {
  it('passes: a x2 model twice scores a x4 set; JPEG-compressed LR scores differently from the clean LR', async () => {
    const model = await ImageModel.fromWeights(config, randomWeights(config, 4));
    try {
      const x4 = await benchmark('x4', 8);
      await expect(evaluateSet(model, x4)).rejects.toThrow(/is not x2 of LR/);
      const two = await evaluateSet(model, x4, { passes: 2 });
      expect(two.scale).toBe(4);
      expect(Number.isFinite(two.mean.psnr)).toBe(true);
      const x2 = await benchmark('x2', 16);
      const clean = await evaluateSet(model, x2);
      const jpeg = await evaluateSet(model, x2, { lrJpeg: 30 });
      expect(jpeg.mean.psnr).not.toBe(clean.mean.psnr);
      expect((await evaluateSet(model, x2, { lrJpeg: 30 })).mean.psnr).toBe(jpeg.mean.psnr); // reproducible
    } finally {
      await model.release();
    }
  });
});
