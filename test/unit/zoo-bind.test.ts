import { describe, expect, it } from 'vitest';
import { float32Tensor, type StateDict } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { bindWeights, exportOnnx, modelParamShapes } from '../../engine/zoo/build';
import { exportDynamicOnnx, isSizeIndependent } from '../../engine/zoo/dynamic';
import { summarizeOnnx } from '../../engine/graph/onnx';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';

const mini = presetConfig('edsr-mini');

function copy(sd: StateDict): StateDict {
  return new Map(sd);
}

describe('bindWeights', () => {
  it('accepts a complete checkpoint and returns the tensors in model order', () => {
    const sd = randomWeights(mini, 3);
    const shuffled = new Map([...sd].reverse());
    const bound = bindWeights(mini, shuffled);
    expect([...bound.keys()]).toEqual([...modelParamShapes(mini).keys()]);
    expect(bound.get('conv_first.weight')).toBe(sd.get('conv_first.weight'));
    expect([...bound.keys()]).toContain('upsample.0.weight');
  });

  it('names a missing key', () => {
    const sd = copy(randomWeights(mini));
    sd.delete('body.3.conv2.bias');
    expect(() => bindWeights(mini, sd)).toThrow(/missing keys \(1\): body\.3\.conv2\.bias/);
  });

  it('names an unexpected key', () => {
    const sd = copy(randomWeights(mini));
    sd.set('body.8.conv1.weight', float32Tensor([16, 16, 3, 3]));
    expect(() => bindWeights(mini, sd)).toThrow(/unexpected keys \(1\): body\.8\.conv1\.weight/);
  });

  it('names a shape mismatch (e.g. weights of another scale)', () => {
    const x3 = presetConfig('edsr-mini', { scale: 3 });
    expect(() => bindWeights(x3, randomWeights(mini))).toThrow(
      /shape mismatches \(2\): upsample\.0\.weight: checkpoint \[64, 16, 3, 3\], model \[144, 16, 3, 3\]/,
    );
  });

  it('refuses integer tensors where weights belong', () => {
    const sd = copy(randomWeights(mini));
    sd.set('conv_last.bias', { dtype: 'int64', shape: [3], data: new BigInt64Array(3) });
    expect(() => bindWeights(mini, sd)).toThrow(/conv_last\.bias are int64/);
  });

  it('drops buffers SwinIR recomputes, but not unknown keys', () => {
    const cfg = presetConfig('swinir-mini');
    const sd = copy(randomWeights(cfg));
    sd.set('layers.0.residual_group.blocks.1.attn_mask', float32Tensor([64, 64, 64]));
    sd.set('layers.0.residual_group.blocks.0.attn.relative_position_index', {
      dtype: 'int64',
      shape: [64, 64],
      data: new BigInt64Array(64 * 64),
    });
    expect(bindWeights(cfg, sd).has('layers.0.residual_group.blocks.1.attn_mask')).toBe(false);
    sd.set('layers.0.residual_group.blocks.0.attn.extra', float32Tensor([1]));
    expect(() => bindWeights(cfg, sd)).toThrow(/unexpected keys \(1\): layers\.0\.residual_group\.blocks\.0\.attn\.extra/);
  });
});

describe('ONNX export', () => {
  it('EDSR graphs do not depend on the input size, so a symbolic-size export runs at any size', async () => {
    expect(isSizeIndependent(mini)).toBe(true);
    const bytes = exportDynamicOnnx(mini, randomWeights(mini), { note: 'x' });
    const summary = summarizeOnnx(bytes);
    expect(summary.inputs).toEqual([{ name: 'input', shape: ['batch', 3, 'height', 'width'], dtype: 'float32' }]);
    expect(summary.metadata.note).toBe('x');
    const session = await ModelSession.create(bytes);
    for (const [n, h, w] of [
      [1, 5, 9],
      [2, 17, 4],
    ] as const) {
      const out = await session.run({ input: float32Tensor([n, 3, h, w]) });
      expect(out.output!.shape).toEqual([n, 3, 2 * h, 2 * w]);
    }
    await session.release();
  });

  it('SwinIR graphs depend on the input size and are exported for a fixed tile', () => {
    const cfg = presetConfig('swinir-mini');
    expect(isSizeIndependent(cfg)).toBe(false);
    expect(() => exportDynamicOnnx(cfg, randomWeights(cfg))).toThrow(/depend on the input size/);
    const summary = summarizeOnnx(exportOnnx(cfg, randomWeights(cfg), { height: 16, width: 24 }));
    expect(summary.inputs[0]!.shape).toEqual([1, 3, 16, 24]);
    expect(summary.outputs[0]!.shape).toEqual([1, 3, 32, 48]);
  });
});
