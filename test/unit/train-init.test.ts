import { describe, expect, it } from 'vitest';
import { initParams } from '../../engine/train/init';
import { modelParamShapes } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';

const stats = (a: Float32Array) => {
  let s = 0;
  let s2 = 0;
  let max = 0;
  for (const v of a) {
    s += v;
    s2 += v * v;
    max = Math.max(max, Math.abs(v));
  }
  return { mean: s / a.length, std: Math.sqrt(s2 / a.length - (s / a.length) ** 2), max };
};

describe('from-scratch initialisation', () => {
  it('EDSR: PyTorch default convs, residual convs 0.1 x kaiming-normal with zero bias', () => {
    const shapes = modelParamShapes(presetConfig('edsr-baseline'));
    const p = initParams('edsr', shapes, 0);
    expect([...p.keys()]).toEqual([...shapes.keys()]);
    const first = stats(p.get('conv_first.weight')!);
    expect(first.max).toBeLessThanOrEqual(1 / Math.sqrt(27));
    expect(first.max).toBeGreaterThan(0.9 / Math.sqrt(27));
    const body = stats(p.get('body.3.conv1.weight')!);
    expect(body.std).toBeCloseTo(0.1 * Math.sqrt(2 / (64 * 9)), 3);
    expect(stats(p.get('body.3.conv1.bias')!).max).toBe(0);
    expect(stats(p.get('conv_last.bias')!).max).toBeLessThanOrEqual(1 / Math.sqrt(64 * 9));
  });

  it('SwinIR: trunc-normal(0.02) linears and position tables, unit LayerNorms', () => {
    const shapes = modelParamShapes(presetConfig('swinir-mini'));
    const p = initParams('swinir', shapes, 0);
    const norm = 'layers.0.residual_group.blocks.1.norm1';
    expect(Array.from(new Set(p.get(`${norm}.weight`)!))).toEqual([1]);
    expect(Array.from(new Set(p.get(`${norm}.bias`)!))).toEqual([0]);
    expect(stats(p.get('layers.1.residual_group.blocks.0.attn.qkv.weight')!).std).toBeCloseTo(0.02, 3);
    expect(stats(p.get('layers.1.residual_group.blocks.0.attn.relative_position_bias_table')!).std).toBeCloseTo(0.02, 2);
    expect(Array.from(new Set(p.get('layers.1.residual_group.blocks.0.mlp.fc1.bias')!))).toEqual([0]);
  });

  it('is a function of the seed', () => {
    const shapes = modelParamShapes(presetConfig('edsr-mini'));
    expect(Array.from(initParams('edsr', shapes, 4).get('conv_first.weight')!)).toEqual(
      Array.from(initParams('edsr', shapes, 4).get('conv_first.weight')!),
    );
    expect(initParams('edsr', shapes, 5).get('conv_first.weight')![0]).not.toBe(initParams('edsr', shapes, 4).get('conv_first.weight')![0]);
  });
});
