import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../engine/io/safetensors';
import { ModelSession } from '../../engine/runtime/session';
import { readCard, sha256File } from '../../engine/zoo/card';
import { cardFromOnnx } from '../../engine/zoo/infer';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const MODEL = path.resolve(import.meta.dirname, '../../models/edsr-baseline-x2.onnx');

describe('shipped models/edsr-baseline-x2.onnx', () => {
  it('carries a card that matches the one beside it, with measured metrics', async () => {
    const card = await readCard(MODEL.replace(/\.onnx$/, '.json'));
    const { metrics, ...exported } = card;
    expect(cardFromOnnx(await readFile(MODEL))).toEqual(exported);
    expect(card).toMatchObject({ preset: 'edsr-baseline', params: 1_369_859, scale: 2, tile: 'dynamic' });
    expect(Math.abs(metrics!['Set5/x2']!.psnr - 37.341)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(metrics!['Set14/x2']!.psnr - 32.933)).toBeLessThanOrEqual(0.01);
  });

  it.runIf(sharedAvailable('shipped model vs PyTorch golden'))(
    'reproduces the PyTorch golden output, from the weights its card names',
    async () => {
      const card = await readCard(MODEL.replace(/\.onnx$/, '.json'));
      expect(card.weights!.sha256).toBe(await sha256File(sharedPath('weights', 'edsr_baseline_x2.pth')));
      const golden = await readSafetensors(sharedPath('golden', 'edsr_baseline_x2_forward.safetensors'));
      const session = await ModelSession.create(await readFile(MODEL));
      const out = (await session.run({ input: golden.tensors.get('input_24x32')! })).output!;
      await session.release();
      const e = golden.tensors.get('output_24x32')!.data as Float32Array;
      expect(out.shape).toEqual([1, 3, 48, 64]);
      let m = 0;
      for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs((out.data as Float32Array)[i]! - e[i]!));
      expect(m).toBeLessThanOrEqual(1e-4);
    },
  );
});
