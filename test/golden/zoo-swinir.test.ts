import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import { loadStateDict, matchStateDict } from '../../engine/io/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import type { HostTensor, StateDict } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { swinir, type SwinIRConfig } from '../../engine/zoo/swinir';
import { relativePositionIndex, shiftMask } from '../../engine/zoo/swinir-windows';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const have = sharedAvailable('SwinIR golden forward tests (../shared/golden)');

const CASES: Record<string, Partial<SwinIRConfig>> = {
  swinir_mini: { embed_dim: 24, depths: [4, 4, 4], num_heads: [6, 6, 6], window_size: 8, mlp_ratio: 2, upsampler: 'pixelshuffledirect' },
  swinir_light: {
    embed_dim: 60,
    depths: [6, 6, 6, 6],
    num_heads: [6, 6, 6, 6],
    window_size: 8,
    mlp_ratio: 2,
    upsampler: 'pixelshuffledirect',
  },
};

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [a.data as Float32Array, b.data as Float32Array];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

async function runGraph(config: SwinIRConfig, sd: StateDict, input: HostTensor): Promise<HostTensor> {
  const g = new Graph('swinir');
  g.output(swinir.build(g, g.input('input', input.shape), config), 'output');
  // Strict: every parameter present with its shape; only the recomputed buffers may be left over.
  matchStateDict(new Map([...g.params].map(([k, p]) => [k, p.value.shape])), sd, { ignore: swinir.isDerivedBuffer });
  const session = await ModelSession.create(toOnnx(g, { params: 'initializers', weights: sd }));
  try {
    return (await session.run({ input })).output!;
  } finally {
    await session.release();
  }
}

describe.skipIf(!have)('SwinIR golden forward (official network_swinir.py, PyTorch)', () => {
  for (const [name, partial] of Object.entries(CASES)) {
    it(`${name}: every output_HxW within 1e-4`, async () => {
      const golden = await readSafetensors(sharedPath('golden', `${name}_x2_forward.safetensors`));
      const weightsFile = golden.metadata.weights;
      expect(weightsFile).toBe(`${name}_x2_golden.pth`);
      const sd = await loadStateDict(sharedPath('golden', weightsFile!));
      const config = swinir.validate(partial);
      const inputs = [...golden.tensors.keys()].filter((k) => k.startsWith('input_'));
      expect(inputs.length).toBeGreaterThan(0);
      for (const key of inputs) {
        const expected = golden.tensors.get(key.replace('input_', 'output_'))!;
        const out = await runGraph(config, sd, golden.tensors.get(key)!);
        const err = maxAbsDiff(out, expected);
        console.log(`${name} ${key.slice(6)}: max abs error ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('our relative_position_index and shift mask equal the checkpoint buffers (64x64 training size)', async () => {
    const sd = await loadStateDict(sharedPath('golden', 'swinir_mini_x2_golden.pth'));
    const index = sd.get('layers.0.residual_group.blocks.1.attn.relative_position_index')!;
    expect(Array.from(index.data as BigInt64Array, Number)).toEqual(Array.from(relativePositionIndex(8)));
    const mask = sd.get('layers.0.residual_group.blocks.1.attn_mask')!;
    expect(mask.shape).toEqual([64, 64, 64]);
    expect(Array.from(mask.data as Float32Array)).toEqual(Array.from(shiftMask({ height: 64, width: 64, window: 8 }, 4)));
  });
});
