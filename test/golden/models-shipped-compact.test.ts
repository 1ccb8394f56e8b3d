import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCard } from '../../engine/zoo/card';
import { evaluateSet } from '../../engine/zoo/evaluate';
import { ImageModel } from '../../engine/zoo/infer';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * The shipped compact model must score what its card claims (numbers the README repeats), and
 * clearly beat bicubic (Set5 33.67 / Set14 30.33 dB), so a card can't drift from its weights.
 */
const MODEL = path.resolve(import.meta.dirname, '../../models/edsr-mini-x2.onnx');

describe('shipped models/edsr-mini-x2.onnx', () => {
  it('is an EDSRmini with its training recorded in the card', async () => {
    const card = await readCard(MODEL.replace(/\.onnx$/, '.json'));
    expect(card).toMatchObject({ preset: 'edsr-mini', params: 49_603, scale: 2 });
    expect((card as unknown as { training?: { steps?: number } }).training?.steps).toBeGreaterThan(0);
  });

  describe.runIf(sharedAvailable('shipped compact model evaluation'))('measured', () => {
    let model: ImageModel;
    let card: Awaited<ReturnType<typeof readCard>>;
    beforeAll(async () => {
      card = await readCard(MODEL.replace(/\.onnx$/, '.json'));
      model = await ImageModel.fromOnnx(await readFile(MODEL));
    });
    afterAll(async () => {
      await model?.release();
    });

    for (const [set, bicubic] of [
      ['Set5', 33.67],
      ['Set14', 30.33],
    ] as const) {
      it(`${set} x2 matches the card and beats bicubic`, async () => {
        const r = await evaluateSet(model, sharedPath('datasets', set, 'x2'));
        expect(Math.abs(r.mean.psnr - card.metrics![`${set}/x2`]!.psnr)).toBeLessThanOrEqual(0.01);
        expect(r.mean.psnr).toBeGreaterThan(bicubic + 1);
      });
    }
  });
});
