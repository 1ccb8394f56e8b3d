import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../engine/io/safetensors';
import { toOnnx } from '../../engine/graph/onnx';
import type { StateDict } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { bindWeights, buildModel } from '../../engine/zoo/build';
import { exportDynamicOnnx } from '../../engine/zoo/dynamic';
import { validateConfig } from '../../engine/zoo/registry';

/**
 * EDSR's x3 (conv + pixel shuffle 3) and x4 (two conv + pixel shuffle 2 stages) upsamplers
 * against PyTorch (BasicSR's layout; fixtures written by scripts/bench/edsr_scales_golden.py):
 * our static and symbolic-size graphs with the same weights agree to 1e-4.
 */
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/golden');

describe('EDSR x3/x4 reproduce PyTorch', () => {
  for (const scale of [3, 4]) {
    it(`x${scale}: every input size, static and symbolic-size graphs`, async () => {
      const golden = await readSafetensors(path.join(FIXTURES, `edsr_x${scale}_forward.safetensors`));
      expect(golden.metadata.scale).toBe(String(scale));
      const config = validateConfig({ family: 'edsr', num_feat: 16, num_block: 2, res_scale: 2, upscale: scale });
      const sd: StateDict = new Map(
        [...golden.tensors].filter(([k]) => k.startsWith('weight.')).map(([k, t]) => [k.slice('weight.'.length), t]),
      );
      const weights = bindWeights(config, sd);
      const dynamic = await ModelSession.create(exportDynamicOnnx(config, weights));
      try {
        for (const key of ['input_0', 'input_1']) {
          const input = golden.tensors.get(key)!;
          const expected = golden.tensors.get(key.replace('input_', 'output_'))!;
          const [, , height, width] = input.shape as [number, number, number, number];
          expect(expected.shape).toEqual([1, 3, height * scale, width * scale]);
          const { graph } = buildModel(config, { height, width });
          const session = await ModelSession.create(toOnnx(graph, { params: 'initializers', weights }));
          const outs = [(await session.run({ input })).output!, (await dynamic.run({ input })).output!];
          await session.release();
          for (const out of outs) {
            expect(out.shape).toEqual(expected.shape);
            const a = out.data as Float32Array;
            const b = expected.data as Float32Array;
            expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThanOrEqual(1e-4);
          }
        }
      } finally {
        await dynamic.release();
      }
    });
  }
});
