import { describe, expect, it } from 'vitest';
import { loadStateDict } from '../../engine/io/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import { toOnnx } from '../../engine/graph/onnx';
import { ModelSession } from '../../engine/runtime/session';
import { bindWeights, buildModel } from '../../engine/zoo/build';
import { exportDynamicOnnx } from '../../engine/zoo/dynamic';
import { presetConfig } from '../../engine/zoo/presets';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * PyTorch reference outputs (BasicSR's EDSR layout) for every input size in the golden files:
 * our graph with the same weights must agree to 1e-4.
 */
const CASES = [
  { file: 'edsr_mini_x2_forward.safetensors', preset: 'edsr-mini' },
  { file: 'edsr_baseline_x2_forward.safetensors', preset: 'edsr-baseline' },
] as const;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The weights file the golden names in its metadata: `*_x2_golden.pth` beside it, or the teacher's. */
function weightsPath(name: string): string {
  return name === 'edsr_baseline_x2.pth' ? sharedPath('weights', name) : sharedPath('golden', name);
}

describe.runIf(sharedAvailable('EDSR golden forward tests'))('EDSR reproduces PyTorch golden outputs', () => {
  for (const { file, preset } of CASES) {
    it(`${preset}: every input size, static and symbolic-size graphs`, async () => {
      const golden = await readSafetensors(sharedPath('golden', file));
      const weightsFile = golden.metadata.weights;
      expect(weightsFile, `${file} names its weights`).toBeTruthy();
      const config = presetConfig(preset);
      const weights = bindWeights(config, await loadStateDict(weightsPath(weightsFile!)));
      const dynamic = await ModelSession.create(exportDynamicOnnx(config, weights));
      const inputs = [...golden.tensors.keys()].filter((k) => k.startsWith('input_'));
      expect(inputs.length).toBeGreaterThan(0);
      for (const key of inputs) {
        const input = golden.tensors.get(key)!;
        const expected = golden.tensors.get(key.replace('input_', 'output_'))!;
        const [, , height, width] = input.shape as [number, number, number, number];
        const { graph, output } = buildModel(config, { height, width });
        expect(output.shape).toEqual(expected.shape);
        const session = await ModelSession.create(toOnnx(graph, { params: 'initializers', weights }));
        const ours = (await session.run({ input })).output!;
        await session.release();
        expect(ours.shape).toEqual(expected.shape);
        expect(maxAbsDiff(ours.data as Float32Array, expected.data as Float32Array), `${preset} ${key} static`).toBeLessThanOrEqual(1e-4);
        const dyn = (await dynamic.run({ input })).output!;
        expect(dyn.shape).toEqual(expected.shape);
        expect(maxAbsDiff(dyn.data as Float32Array, expected.data as Float32Array), `${preset} ${key} symbolic`).toBeLessThanOrEqual(1e-4);
      }
      await dynamic.release();
    });
  }
});
