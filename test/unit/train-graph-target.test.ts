import { describe, expect, it } from 'vitest';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { initParams } from '../../engine/train/init';
import { Rng } from '../../engine/train/rng';
import { buildTrainGraph, OnnxTrainStep, type StepShape } from '../../engine/train/train-graph';
import { validateConfig, type ModelConfig } from '../../engine/zoo/registry';
import { relErr } from './autodiff-helpers';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * The `gpu` build target changes the layout of the graph (SwinIR attention over all windows at
 * once instead of cache-sized chunks: fewer nodes, each a GPU dispatch; no ops the GPU providers
 * lack), never its values.
 */

// 2 images of 32x32 in 4x4 windows: 128 windows, chunked on the CPU layout.
const model = validateConfig({
  family: 'swinir',
  embed_dim: 8,
  depths: [2],
  num_heads: [2],
  window_size: 4,
  mlp_ratio: 2,
  upsampler: 'pixelshuffledirect',
  upscale: 2,
});
const shape = { batch: 2, patch: 32 };

function nodes(bytes: Uint8Array) {
  return onnx.ModelProto.decode(bytes).graph!.node!;
}

async function runStep(bytes: Uint8Array, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await ModelSession.create(bytes, { threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Both layouts of one training step, and a check that they give the same loss and gradients on random data. */
function layouts(config: ModelConfig, shape: StepShape) {
  const cpu = buildTrainGraph(config, { type: 'l1' }, shape, 'cpu');
  const gpu = buildTrainGraph(config, { type: 'l1' }, shape, 'gpu');
  const sameResults = async (seed: number) => {
    expect(gpu.paramKeys).toEqual(cpu.paramKeys);
    const rng = Rng.seeded(seed);
    const [n, p, P] = [shape.batch, shape.patch, 2 * shape.patch];
    const feeds: Record<string, HostTensor> = {
      lr: float32Tensor(
        [n, 3, p, p],
        Float32Array.from({ length: n * 3 * p * p }, () => rng.next()),
      ),
      hr: float32Tensor(
        [n, 3, P, P],
        Float32Array.from({ length: n * 3 * P * P }, () => rng.next()),
      ),
    };
    const params = initParams(config.family, cpu.paramShapes, seed);
    for (const [k, s] of cpu.paramShapes) feeds[k] = float32Tensor(s, params.get(k)!);
    const [a, b] = [await runStep(cpu.onnx, feeds), await runStep(gpu.onnx, feeds)];
    expect(relErr(b.loss!, a.loss!)).toBeLessThan(1e-6);
    for (const k of cpu.paramKeys) expect(relErr(b[`grad.${k}`]!, a[`grad.${k}`]!), k).toBeLessThan(1e-5);
  };
  return { cpu: nodes(cpu.onnx), gpu: nodes(gpu.onnx), sameResults };
}

const has = (ns: ReturnType<typeof nodes>, op: string) => ns.some((n) => n.opType === op);

describe('build target', () => {
  it('gpu: SwinIR attention unchunked, fewer nodes, the same loss and gradients', async () => {
    const l = layouts(model, shape);
    expect(has(l.cpu, 'Split')).toBe(true);
    expect(has(l.gpu, 'Split')).toBe(false);
    expect(l.gpu.length).toBeLessThan(l.cpu.length);
    await l.sameResults(7);
  });

  it('gpu: EDSR pixel-shuffle gradient without SpaceToDepth (no WebGPU kernel), the same loss and gradients', async () => {
    const l = layouts(validateConfig({ family: 'edsr', num_feat: 8, num_block: 2, res_scale: 2 }), { batch: 2, patch: 12 });
    expect(has(l.cpu, 'SpaceToDepth')).toBe(true);
    expect(has(l.gpu, 'SpaceToDepth')).toBe(false);
    await l.sameResults(8);
  });

  it('a step that ends on the CPU (auto falling back) runs the CPU layout', async () => {
    const absent = process.platform === 'win32' ? 'coreml' : 'dml';
    const step = await OnnxTrainStep.create(model, { type: 'l1' }, shape, { ep: 'auto', autoOrder: [absent, 'cpu'], threads: 1 });
    try {
      expect(step.ep).toBe('cpu');
      expect(step.target).toBe('cpu');
    } finally {
      await step.release();
    }
  });
});
