import { describe, expect, it } from 'vitest';
import type { BuildTarget } from '../../engine/graph/graph';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { ADAM_DEFAULTS, adamScalars } from '../../engine/train/optim';
import { ResidentTrainStep } from '../../engine/train/resident-step';
import { buildTrainGraph, type LossConfig } from '../../engine/train/train-graph';
import { exportOnnx } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { resolveArch } from '../../engine/zoo/registry';
import { webgpuAvailable } from '../helpers/webgpu';

/**
 * The WebGPU path on every CI run (lavapipe: a software Vulkan driver, so small shapes). With
 * `session.disable_cpu_ep_fallback` ORT refuses to create a session unless every node is placed
 * on the WebGPU EP, so creation itself proves 100% placement. Random weights: parity, not quality.
 */

const PRESETS = ['edsr-mini', 'edsr-baseline', 'swinir-mini', 'swinir-light'] as const;
const ALL_ON_WEBGPU = { 'session.disable_cpu_ep_fallback': '1' };
const run = webgpuAvailable('test/webgpu (WebGPU EP placement and parity)');

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a-b| over max |b|: one scale for the whole tensor, so near-zero entries do not dominate. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-12);
}

describe.skipIf(!run)('WebGPU EP on every preset', () => {
  for (const preset of PRESETS) {
    it(`${preset}: inference placed wholly on WebGPU and equal to the CPU EP (<= 1e-4)`, async () => {
      const config = presetConfig(preset);
      const side = resolveArch(config).inputMultiple;
      const onnx = exportOnnx(config, randomWeights(config, 3), { height: side, width: side });
      const input = { input: float32Tensor([1, 3, side, side], seeded(3 * side * side, 7)) };
      const cpu = await ModelSession.create(onnx, { ep: 'cpu' });
      const gpu = await ModelSession.create(onnx, { ep: 'webgpu', configEntries: ALL_ON_WEBGPU });
      try {
        const want = (await cpu.run(input)).output!.data as Float32Array;
        const got = (await gpu.run(input)).output!.data as Float32Array;
        expect(got.length).toBe(want.length);
        expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-4);
      } finally {
        await cpu.release();
        await gpu.release();
      }
    });
  }

  const distill: LossConfig = { type: 'distill', hrWeight: 0.1, levelWeights: 'paper' };
  for (const preset of PRESETS) {
    it(`${preset}: one distillation step on WebGPU (gpu layout wholly placed there); loss and gradients equal the CPU EP's (<= 1e-3 rel)`, async () => {
      const config = presetConfig(preset);
      const arch = resolveArch(config);
      // MultiLap's 5 levels need HR sides >= 24 and divisible by 16; SwinIR needs whole windows (8)
      const p = 16;
      const P = p * arch.scale;
      const weights = randomWeights(config, 5);
      const stepOn = async (target: BuildTarget, ep: 'cpu' | 'webgpu') => {
        const built = buildTrainGraph(config, distill, { batch: 1, patch: p }, target);
        const feeds: Record<string, HostTensor> = {
          lr: float32Tensor([1, 3, p, p], seeded(3 * p * p, 1)),
          hr: float32Tensor([1, 3, P, P], seeded(3 * P * P, 2)),
          teacher: float32Tensor([1, 3, P, P], seeded(3 * P * P, 3)),
        };
        for (const k of built.paramShapes.keys()) feeds[k] = weights.get(k)!;
        // The cpu layout keeps SpaceToDepth (no WebGPU kernel) in the pixel-shuffle backward: it is only ever
        // run on the CPU EP (OnnxTrainStep builds the gpu layout for a GPU), so only parity is asked of it here.
        const all = ep === 'webgpu' && target === 'gpu';
        const session = await ModelSession.create(built.onnx, { ep, ...(all ? { configEntries: ALL_ON_WEBGPU } : {}) });
        try {
          const out = await session.run(feeds);
          return {
            loss: (out.loss!.data as Float32Array)[0]!,
            grads: built.paramKeys.map((k) => [k, out[`grad.${k}`]!.data as Float32Array] as const),
          };
        } finally {
          await session.release();
        }
      };
      const want = await stepOn('cpu', 'cpu');
      for (const target of ['gpu', 'cpu'] as const) {
        const got = await stepOn(target, 'webgpu');
        expect(Math.abs(got.loss - want.loss) / Math.abs(want.loss), `${target} loss`).toBeLessThanOrEqual(1e-3);
        got.grads.forEach(([k, g], i) => expect(relDiff(g, want.grads[i]![1]), `${target} ${k}`).toBeLessThanOrEqual(1e-3));
      }
    });
  }
  // The in-graph update (Adam, clipping, EMA) with its state resident on the GPU: both students.
  const UPDATE_CASES = [
    ['edsr-mini', 'matmul'],
    ['edsr-mini', 'conv'],
    ['swinir-mini', 'matmul'],
  ] as const;
  for (const [preset, convWeightGrad] of UPDATE_CASES) {
    it(`${preset} (${convWeightGrad} conv weight gradients): two in-graph update steps on WebGPU (wholly placed there, state kept on the GPU) equal the CPU EP's (<= 1e-3 rel)`, async () => {
      const config = presetConfig(preset);
      const p = 16;
      const P = p * resolveArch(config).scale;
      const settings = { adam: { ...ADAM_DEFAULTS, type: 'adamw' as const, weightDecay: 1e-2 }, gradClip: 0.1, convWeightGrad };
      const weights = randomWeights(config, 9);
      const run = async (ep: 'cpu' | 'webgpu') => {
        const step = await ResidentTrainStep.create(config, distill, { batch: 1, patch: p }, settings, {
          ep,
          ...(ep === 'webgpu' ? { configEntries: ALL_ON_WEBGPU } : {}),
        });
        try {
          const params = new Map(step.paramKeys.map((k) => [k, Float32Array.from(weights.get(k)!.data as Float32Array)]));
          const zeros = () => new Map(step.paramKeys.map((k) => [k, new Float32Array(params.get(k)!.length)]));
          const state = { params, 'adam.m': zeros(), 'adam.v': zeros(), ema: new Map([...params].map(([k, v]) => [k, v.slice()])) };
          step.load(state);
          const losses: number[] = [];
          for (let t = 1; t <= 2; t++) {
            const batch = { step: t, lr: seeded(3 * p * p, 10 + t), hr: seeded(3 * P * P, 20 + t), teacher: seeded(3 * P * P, 30 + t) };
            losses.push(await step.run(batch, { ...adamScalars(settings.adam, t, 1e-3), emaDecay: 0.5 }));
          }
          await step.readInto(state);
          return { losses, state };
        } finally {
          await step.release();
        }
      };
      const want = await run('cpu');
      const got = await run('webgpu');
      got.losses.forEach((l, i) => expect(Math.abs(l - want.losses[i]!) / want.losses[i]!, `loss ${i}`).toBeLessThanOrEqual(1e-3));
      for (const s of ['params', 'adam.m', 'adam.v', 'ema'] as const)
        for (const [k, v] of want.state[s]) expect(relDiff(got.state[s].get(k)!, v), `${s} ${k}`).toBeLessThanOrEqual(1e-3);
    });
  }
});
