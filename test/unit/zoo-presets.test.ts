import { describe, expect, it } from 'vitest';
import { buildModel } from '../../engine/zoo/build';
import { countFlops, countParams, modelCost } from '../../engine/zoo/count';
import { PRESET_NAMES, presetConfig } from '../../engine/zoo/presets';
import { validateConfig } from '../../engine/zoo/registry';

describe('presets', () => {
  it('have the parameter counts of the PyTorch models', () => {
    // From ../shared/golden/cases.json (PyTorch sum of p.numel() over parameters).
    const expected: Record<string, number> = {
      'edsr-mini': 49_603,
      'edsr-baseline': 1_369_859,
      'swinir-mini': 98_868,
      'swinir-light': 910_152,
    };
    for (const [preset, params] of Object.entries(expected)) {
      expect(modelCost(presetConfig(preset)).params, preset).toBe(params);
    }
  });

  it('resolve to validated configs, x2 unless a scale is given', () => {
    const c = presetConfig('edsr-mini');
    expect(c).toMatchObject({ family: 'edsr', num_feat: 16, num_block: 8, res_scale: 2, upscale: 2, img_range: 255 });
    expect(presetConfig('swinir-light', { scale: 4 })).toMatchObject({
      family: 'swinir',
      embed_dim: 60,
      upscale: 4,
      upsampler: 'pixelshuffledirect',
    });
    const { output } = buildModel(presetConfig('edsr-mini', { scale: 3 }), { height: 5, width: 7 });
    expect(output.shape).toEqual([1, 3, 15, 21]);
    for (const name of PRESET_NAMES) expect(validateConfig(presetConfig(name))).toEqual(presetConfig(name));
  });

  it('reject unknown names and bad options, naming what is wrong', () => {
    expect(() => presetConfig('edsr-huge')).toThrow(/unknown preset "edsr-huge"; known presets: edsr-baseline, edsr-mini/);
    expect(() => presetConfig('edsr-mini', { scale: 5 })).toThrow(/upscale/);
    expect(() => validateConfig({ family: 'rcan' })).toThrow(/unknown model family "rcan"; known: edsr, swinir/);
    expect(() => validateConfig({ family: 'edsr', num_feat: 0 })).toThrow(/num_feat/);
    expect(() => buildModel(presetConfig('swinir-mini'), { height: 12, width: 16 })).toThrow(/multiples of 8/);
  });
});

describe('FLOPs', () => {
  it('count 2 x MACs of the convolutions, checked against a hand count for EDSR x2 and x4', () => {
    const h = 6;
    const w = 10;
    const p = h * w;
    const conv = (cin: number, cout: number, pixels: number) => 2 * cin * cout * 9 * pixels;
    // conv_first, 8 blocks of two convs, conv_after_body, upsample.0, conv_last (at 2x size).
    const x2 = conv(3, 16, p) + 16 * conv(16, 16, p) + conv(16, 16, p) + conv(16, 64, p) + conv(16, 3, 4 * p);
    const g2 = buildModel(presetConfig('edsr-mini'), { height: h, width: w }).graph;
    expect(countFlops(g2)).toMatchObject({ conv: x2, matmul: 0, flops: x2 });
    // x4: a second conv + pixel shuffle at 2x size, conv_last at 4x size.
    const x4 = conv(3, 16, p) + 16 * conv(16, 16, p) + conv(16, 16, p) + conv(16, 64, p) + conv(16, 64, 4 * p) + conv(16, 3, 16 * p);
    const g4 = buildModel(presetConfig('edsr-mini', { scale: 4 }), { height: h, width: w }).graph;
    expect(countFlops(g4).flops).toBe(x4);
    expect(countParams(g4)).toBe(49_603 + 16 * 64 * 9 + 64);
  });

  it('scale with the input area; EDSR-baseline x2 at 640x360 is within 0.1 G of the published 316.3 G multiply-adds', () => {
    const cost = modelCost(presetConfig('edsr-baseline'));
    expect(Math.abs(cost.flops640x360 / 2 / 1e9 - 316.3)).toBeLessThan(0.1);
    expect(cost.flopsPerMegapixel).toBeCloseTo((cost.flops640x360 * 1e6) / (640 * 360), 0);
    const small = countFlops(buildModel(presetConfig('swinir-mini'), { height: 40, width: 64 }).graph);
    const large = countFlops(buildModel(presetConfig('swinir-mini'), { height: 80, width: 64 }).graph);
    expect(small.matmul).toBeGreaterThan(0);
    expect(large.flops).toBe(2 * small.flops);
  });
});
