import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { swinir, type SwinIRConfig } from '../../engine/zoo/swinir';

export const PRESETS: Record<string, Partial<SwinIRConfig>> = {
  mini: { embed_dim: 24, depths: [4, 4, 4], num_heads: [6, 6, 6], window_size: 8, mlp_ratio: 2 },
  light: { embed_dim: 60, depths: [6, 6, 6, 6], num_heads: [6, 6, 6, 6], window_size: 8, mlp_ratio: 2 },
};

/** Deterministic pseudo-random weights (speed does not depend on the values). */
export function randomWeights(g: Graph): Map<string, HostTensor> {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.04;
  return new Map(
    [...g.params].map(([k, p]) => [k, float32Tensor(p.value.shape, Float32Array.from({ length: numel(p.value.shape) }, rnd))]),
  );
}

export async function buildOurs(partial: Partial<SwinIRConfig>, h: number, w: number): Promise<Uint8Array> {
  const g = new Graph('swinir');
  g.output(swinir.build(g, g.input('input', [1, 3, h, w]), swinir.validate(partial)), 'output');
  return toOnnx(g, { params: 'initializers', weights: randomWeights(g) });
}
