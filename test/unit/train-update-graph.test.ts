import { describe, expect, it } from 'vitest';
import type { ConvWeightGrad } from '../../engine/graph/graph';
import { Rng } from '../../engine/train/rng';
import { initParams } from '../../engine/train/init';
import { Adam, adamScalars, clipGradNorm, copyParams, Ema, type AdamConfig } from '../../engine/train/optim';
import { ResidentTrainStep } from '../../engine/train/resident-step';
import { OnnxTrainStep, type LossConfig } from '../../engine/train/train-graph';
import { emaDecayAt } from '../../engine/train/trainer';
import { validateConfig } from '../../engine/zoo/registry';
import { relErr } from './autodiff-helpers';

/**
 * The in-graph update (forward + backward + clipping + Adam + EMA in one ONNX run) against the
 * host path it replaces (the plain step graph's gradients, then optim.ts on the host), a few
 * steps on the CPU EP from the same weights and batches: same losses, parameters, moments and EMA
 * within float32 rounding.
 */

const model = validateConfig({ family: 'edsr', num_feat: 4, num_block: 1, res_scale: 1 });
// MultiLap's 5 levels need HR sides of at least 24
const shape = { batch: 2, patch: 16 };
const STEPS = 4;

function batchAt(step: number) {
  const rng = Rng.seeded(100 + step);
  return {
    step,
    lr: Float32Array.from({ length: 2 * 3 * 16 * 16 }, () => rng.next()),
    hr: Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.next()),
    teacher: Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.next()),
  };
}

const CASES: { name: string; adam: AdamConfig; gradClip: number; loss: LossConfig; convWeightGrad?: ConvWeightGrad }[] = [
  { name: 'adam, l1', adam: { type: 'adam', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 }, gradClip: 0, loss: { type: 'l1' } },
  {
    name: 'adam with L2 penalty and clipping that bites, distillation loss',
    adam: { type: 'adam', betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 },
    gradClip: 0.05,
    loss: { type: 'distill', hrWeight: 0.1, levelWeights: 'paper' },
  },
  {
    name: 'adam, l1, conv weight gradients as Convs (the host path keeps the MatMul form)',
    adam: { type: 'adam', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 },
    gradClip: 0,
    loss: { type: 'l1' },
    convWeightGrad: 'conv',
  },
  { name: 'adamw', adam: { type: 'adamw', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.05 }, gradClip: 1, loss: { type: 'mse' } },
];

describe('in-graph Adam + EMA (ResidentTrainStep) equals the host update', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const host = await OnnxTrainStep.create(model, c.loss, shape);
      const fused = await ResidentTrainStep.create(model, c.loss, shape, {
        adam: c.adam,
        gradClip: c.gradClip,
        ...(c.convWeightGrad ? { convWeightGrad: c.convWeightGrad } : {}),
      });
      try {
        expect(fused.paramKeys).toEqual(host.paramKeys);
        const learnable = new Map(host.paramKeys.map((k) => [k, host.paramShapes.get(k)!]));
        const params = initParams('edsr', learnable, 0);
        const adam = new Adam(c.adam, params);
        const ema = new Ema(0.999, params, copyParams(params));
        fused.load({ params, 'adam.m': adam.state.m, 'adam.v': adam.state.v, ema: ema.weights });
        let clipped = false;
        for (let t = 0; t < STEPS; t++) {
          const batch = batchAt(t);
          const lr = 1e-2;
          const d = emaDecayAt(0.999, t);
          const lossF = await fused.run(batch, { ...adamScalars(c.adam, t + 1, lr), emaDecay: d });
          const { loss, grads } = await host.run(params, batch);
          if (c.gradClip > 0) {
            const norm = clipGradNorm(grads, c.gradClip);
            clipped ||= norm > c.gradClip;
          }
          adam.step(params, grads, lr);
          ema.update(params, d);
          expect(Math.abs(lossF - loss) / loss, `loss at step ${t}`).toBeLessThan(1e-5);
        }
        if (c.gradClip > 0 && c.gradClip < 1) expect(clipped, 'clipping changed the gradients').toBe(true);
        const got = { params: new Map(), 'adam.m': new Map(), 'adam.v': new Map(), ema: new Map() };
        await fused.readInto(got);
        const want = { params, 'adam.m': adam.state.m, 'adam.v': adam.state.v, ema: ema.weights };
        for (const s of ['params', 'adam.m', 'adam.v', 'ema'] as const)
          for (const k of host.paramKeys) expect(relErr(got[s].get(k)!, want[s].get(k)!), `${s} ${k}`).toBeLessThan(2e-4);
      } finally {
        await host.release();
        await fused.release();
      }
    });
  }
});
