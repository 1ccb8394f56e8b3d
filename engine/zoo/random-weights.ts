import { float32Tensor, numel, type StateDict } from '../io/tensor';
import { modelParamShapes } from './build';
import type { ModelConfig } from './registry';

/**
 * Deterministic weights for every parameter of a config: uniform in [-scale, scale] from a
 * seeded LCG. For benchmarks and tests that need a runnable model, never for quality.
 */
export function randomWeights(config: ModelConfig, seed = 1, scale = 0.05): StateDict {
  let s = seed >>> 0;
  const sd: StateDict = new Map();
  for (const [key, shape] of modelParamShapes(config)) {
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = ((s / 2 ** 32) * 2 - 1) * scale;
    }
    sd.set(key, float32Tensor(shape, data));
  }
  return sd;
}
