import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardFromOnnx, ImageModel } from '../../engine/zoo/infer';
import { evaluateSet } from '../../engine/zoo/evaluate';
import { exportModel } from '../../engine/zoo/export';
import { presetConfig } from '../../engine/zoo/presets';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * The EDSR-baseline teacher exported to ONNX and run over Set5/Set14 x2 must score what its
 * PyTorch reference implementation measured (../shared/README.md): 37.341 and 32.933 dB.
 */
describe.runIf(sharedAvailable('EDSR-baseline teacher evaluation'))('exported EDSR-baseline teacher', () => {
  let dir: string;
  let model: ImageModel;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-eval-'));
    const { onnx, card } = await exportModel({
      config: presetConfig('edsr-baseline'),
      preset: 'edsr-baseline',
      weightsPath: sharedPath('weights', 'edsr_baseline_x2.pth'),
    });
    expect(card).toMatchObject({
      preset: 'edsr-baseline',
      params: 1_369_859,
      scale: 2,
      tile: 'dynamic',
      weights: { file: 'edsr_baseline_x2.pth' },
    });
    // Through a file, as `minisr eval --model` reads it; the card comes from the ONNX metadata.
    const file = path.join(dir, 'teacher.onnx');
    await writeFile(file, onnx);
    const bytes = await readFile(file);
    expect(cardFromOnnx(bytes)).toEqual(card);
    model = await ImageModel.fromOnnx(bytes);
  });

  afterAll(async () => {
    await model?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Set5 x2: 37.34 dB', async () => {
    const r = await evaluateSet(model, sharedPath('datasets', 'Set5', 'x2'));
    expect(r.images).toHaveLength(5);
    expect(Math.abs(r.mean.psnr - 37.341)).toBeLessThanOrEqual(0.01);
    expect(r.mean.ssim).toBeGreaterThan(0.95);
  }, 60_000);

  it('Set14 x2: 32.93 dB', async () => {
    const r = await evaluateSet(model, sharedPath('datasets', 'Set14', 'x2'));
    expect(r.images).toHaveLength(14);
    expect(Math.abs(r.mean.psnr - 32.933)).toBeLessThanOrEqual(0.01);
  }, 120_000);
});
