import { describe, expect, it } from 'vitest';
import { loadStateDict } from '../../engine/io/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import { ImageModel } from '../../engine/zoo/infer';
import { bindWeights } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * The SwinIR presets, bound through the zoo's strict loader (checkpoint buffers dropped) and run
 * by the whole-image runner, reproduce the PyTorch golden outputs: the preset options are those
 * the goldens were made with.
 */
const CASES = [
  { file: 'swinir_mini_x2_forward.safetensors', preset: 'swinir-mini' },
  { file: 'swinir_light_x2_forward.safetensors', preset: 'swinir-light' },
] as const;

describe.runIf(sharedAvailable('SwinIR preset golden tests'))('SwinIR presets reproduce PyTorch golden outputs', () => {
  for (const { file, preset } of CASES) {
    it(preset, async () => {
      const golden = await readSafetensors(sharedPath('golden', file));
      const config = presetConfig(preset);
      const model = await ImageModel.fromWeights(
        config,
        bindWeights(config, await loadStateDict(sharedPath('golden', golden.metadata.weights!))),
      );
      const inputs = [...golden.tensors.keys()].filter((k) => k.startsWith('input_'));
      expect(inputs.length).toBeGreaterThan(0);
      for (const key of inputs) {
        const input = golden.tensors.get(key)!;
        const expected = golden.tensors.get(key.replace('input_', 'output_'))!;
        const [, channels, height, width] = input.shape as [number, number, number, number];
        const out = await model.upscale({ width, height, channels, data: input.data as Float32Array });
        expect([out.height, out.width]).toEqual(expected.shape.slice(2));
        const e = expected.data as Float32Array;
        let m = 0;
        for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(out.data[i]! - e[i]!));
        expect(m, `${preset} ${key}`).toBeLessThanOrEqual(1e-4);
      }
      await model.release();
    });
  }
});
