import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCard } from '../../engine/zoo/card';
import { evaluateSet } from '../../engine/zoo/evaluate';
import { ImageModel } from '../../engine/zoo/infer';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * Each shipped compact model must score what its card claims (numbers the README repeats), and
 * clearly beat MATLAB bicubic at its scale, so a card can't drift from its weights.
 */
const MODELS = path.resolve(import.meta.dirname, '../../models');
const SHIPPED = [
  { id: 'edsr-mini-x2', scale: 2, params: 49_603, bicubic: { Set5: 33.67, Set14: 30.33 } },
  { id: 'edsr-mini-x3', scale: 3, params: 61_203, bicubic: { Set5: 30.41, Set14: 27.64 } },
  { id: 'edsr-mini-x4', scale: 4, params: 58_883, bicubic: { Set5: 28.43, Set14: 26.09 } },
] as const;

describe.each(SHIPPED)('shipped models/$id.onnx', ({ id, scale, params, bicubic }) => {
  const model = path.join(MODELS, `${id}.onnx`);
  const cardFile = path.join(MODELS, `${id}.json`);

  it('is an EDSRmini with its training recorded in the card', async () => {
    const card = await readCard(cardFile);
    expect(card).toMatchObject({ preset: 'edsr-mini', params, scale });
    expect((card as unknown as { training?: { steps?: number } }).training?.steps).toBeGreaterThan(0);
  });

  describe.runIf(sharedAvailable('shipped compact model evaluation'))('measured', () => {
    let net: ImageModel;
    let card: Awaited<ReturnType<typeof readCard>>;
    beforeAll(async () => {
      card = await readCard(cardFile);
      net = await ImageModel.fromOnnx(await readFile(model));
    });
    afterAll(async () => {
      await net?.release();
    });

    for (const set of ['Set5', 'Set14'] as const) {
      it(`${set} x${scale} matches the card and beats bicubic by over 1 dB`, async () => {
        const r = await evaluateSet(net, sharedPath('datasets', set, `x${scale}`));
        expect(Math.abs(r.mean.psnr - card.metrics![`${set}/x${scale}`]!.psnr)).toBeLessThanOrEqual(0.01);
        expect(r.mean.psnr).toBeGreaterThan(bicubic[set] + 1);
      });
    }
  });
});

/** Why edsr-mini-x4 ships and is what `-s 4` runs: one pass that beats two passes of edsr-mini-x2 on both sets. */
describe.runIf(sharedAvailable('native x4 against two x2 passes'))('edsr-mini-x4 against two passes of edsr-mini-x2', () => {
  for (const set of ['Set5', 'Set14'] as const) {
    it(`${set} x4: higher PSNR and SSIM`, async () => {
      const [x4, x2] = await Promise.all(
        ['edsr-mini-x4', 'edsr-mini-x2'].map(async (id) => ImageModel.fromOnnx(await readFile(path.join(MODELS, `${id}.onnx`)))),
      );
      try {
        const dir = sharedPath('datasets', set, 'x4');
        const native = await evaluateSet(x4!, dir);
        const twice = await evaluateSet(x2!, dir, { passes: 2 });
        expect(native.mean.psnr).toBeGreaterThan(twice.mean.psnr + 0.03);
        expect(native.mean.ssim).toBeGreaterThan(twice.mean.ssim);
      } finally {
        await Promise.all([x4!.release(), x2!.release()]);
      }
    });
  }
});
