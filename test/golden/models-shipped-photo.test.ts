import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCard, sha256File } from '../../engine/zoo/card';
import { evaluateSet } from '../../engine/zoo/evaluate';
import { ImageModel } from '../../engine/zoo/infer';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * Each shipped photo variant must score what its card claims on Set14 with the LR
 * JPEG-compressed at quality 75, beat its clean sibling there clearly (the reason it ships) and
 * cost at most 0.3 dB on clean LR (the goal); its card says what it is for in one line.
 */
const MODELS = path.resolve(import.meta.dirname, '../../models');
const VARIANTS = [
  { id: 'edsr-mini-x2-photo', clean: 'edsr-mini-x2', scale: 2, params: 49_603 },
  { id: 'edsr-mini-x4-photo', clean: 'edsr-mini-x4', scale: 4, params: 58_883 },
] as const;

describe.each(VARIANTS)('shipped models/$id.onnx', ({ id, clean: cleanId, scale, params }) => {
  const PHOTO = path.join(MODELS, `${id}.onnx`);

  it(`is an EDSRmini x${scale} with a description, its weights hash and its training in the card`, async () => {
    const card = await readCard(PHOTO.replace(/\.onnx$/, '.json'));
    expect(card).toMatchObject({ preset: 'edsr-mini', params, scale });
    expect(card.description).toMatch(/photos/);
    expect(card.weights!.sha256).toBe(await sha256File(PHOTO));
    expect((card as unknown as { training?: { command?: string } }).training?.command).toMatch(/--degrade photo/);
  });

  describe.runIf(sharedAvailable('shipped photo model evaluation'))(`measured on Set14 x${scale}, LR as JPEG q75`, () => {
    let photo: ImageModel;
    let clean: ImageModel;
    const set = () => sharedPath('datasets', 'Set14', `x${scale}`);
    beforeAll(async () => {
      photo = await ImageModel.fromOnnx(await readFile(PHOTO));
      clean = await ImageModel.fromOnnx(await readFile(path.join(MODELS, `${cleanId}.onnx`)));
    });
    afterAll(async () => {
      await photo?.release();
      await clean?.release();
    });

    it(`matches the card and beats ${cleanId} by at least 0.25 dB on JPEG LR`, async () => {
      const card = await readCard(PHOTO.replace(/\.onnx$/, '.json'));
      const p = await evaluateSet(photo, set(), { lrJpeg: 75 });
      expect(Math.abs(p.mean.psnr - card.metrics![`Set14/x${scale}+jpeg75`]!.psnr)).toBeLessThanOrEqual(0.01);
      const c = await evaluateSet(clean, set(), { lrJpeg: 75 });
      expect(p.mean.psnr - c.mean.psnr).toBeGreaterThan(0.25);
    });

    it('costs at most 0.3 dB on clean LR', async () => {
      const p = await evaluateSet(photo, set());
      const c = await evaluateSet(clean, set());
      expect(c.mean.psnr - p.mean.psnr).toBeLessThanOrEqual(0.3);
    });
  });
});
