import { describe, expect, it } from 'vitest';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { initParams } from '../../engine/train/init';
import { Rng } from '../../engine/train/rng';
import { buildTrainGraph, OnnxTrainStep } from '../../engine/train/train-graph';
import { validateConfig } from '../../engine/zoo/registry';
import { relErr } from './autodiff-helpers';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * The `gpu` build target changes the layout of the graph (SwinIR attention over all windows at
 * once instead of cache-sized chunks: fewer nodes, each a GPU dispatch; no ops the GPU providers
 * lack), never its values.
 */

// 2 images of 32x32 in 4x4 windows: 128 windows, chunked on the CPU layout.
const model = validateConfig({ family: 'swinir', embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, mlp_ratio: 2, upsampler: 'pixelshuffledirect', upscale: 2 });
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

describe('build target', () => {
  it('gpu: SwinIR attention unchunked, fewer nodes, the same loss and gradients', async () => {
    const cpu = buildTrainGraph(model, { type: 'l1' }, shape, 'cpu');
    const gpu = buildTrainGraph(model, { type: 'l1' }, shape, 'gpu');
    const [nc, ng] = [nodes(cpu.onnx), nodes(gpu.onnx)];
    expect(nc.some((n) => n.opType === 'Split')).toBe(true);
    expect(ng.some((n) => n.opType === 'Split')).toBe(false);
    expect(ng.length).toBeLessThan(nc.length);
    expect(gpu.paramKeys).toEqual(cpu.paramKeys);

    const rng = Rng.seeded(7);
    const feeds: Record<string, HostTensor> = {
      lr: float32Tensor([2, 3, 32, 32], Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.next())),
      hr: float32Tensor([2, 3, 64, 64], Float32Array.from({ length: 2 * 3 * 64 * 64 }, () => rng.next())),
    };
    const params = initParams('swinir', cpu.paramShapes, 3);
    for (const [k, s] of cpu.paramShapes) feeds[k] = float32Tensor(s, params.get(k)!);
    const [a, b] = [await runStep(cpu.onnx, feeds), await runStep(gpu.onnx, feeds)];
    expect(relErr(b.loss!, a.loss!)).toBeLessThan(1e-6);
    for (const k of cpu.paramKeys) expect(relErr(b[`grad.${k}`]!, a[`grad.${k}`]!), k).toBeLessThan(1e-5);
  });

  it('gpu: EDSR pixel-shuffle gradient without SpaceToDepth (no WebGPU kernel), the same loss and gradients', async () => {
    const edsr = validateConfig({ family: 'edsr', num_feat: 8, num_block: 2, res_scale: 2 });
    const cpu = buildTrainGraph(edsr, { type: 'l1' }, { batch: 2, patch: 12 }, 'cpu');
    const gpu = buildTrainGraph(edsr, { type: 'l1' }, { batch: 2, patch: 12 }, 'gpu');
    expect(nodes(cpu.onnx).some((n) => n.opType === 'SpaceToDepth')).toBe(true);
    expect(nodes(gpu.onnx).some((n) => n.opType === 'SpaceToDepth')).toBe(false);
    const rng = Rng.seeded(8);
    const feeds: Record<string, HostTensor> = {
      lr: float32Tensor([2, 3, 12, 12], Float32Array.from({ length: 2 * 3 * 12 * 12 }, () => rng.next())),
      hr: float32Tensor([2, 3, 24, 24], Float32Array.from({ length: 2 * 3 * 24 * 24 }, () => rng.next())),
    };
    const params = initParams('edsr', cpu.paramShapes, 4);
    for (const [k, s] of cpu.paramShapes) feeds[k] = float32Tensor(s, params.get(k)!);
    const [a, b] = [await runStep(cpu.onnx, feeds), await runStep(gpu.onnx, feeds)];
    expect(relErr(b.loss!, a.loss!)).toBeLessThan(1e-6);
    for (const k of cpu.paramKeys) expect(relErr(b[`grad.${k}`]!, a[`grad.${k}`]!), k).toBeLessThan(1e-5);
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
