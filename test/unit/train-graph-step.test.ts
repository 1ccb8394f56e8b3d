import { describe, expect, it } from 'vitest';
import { ADAM_DEFAULTS } from '../../engine/train/optim';
import { ResidentTrainStep } from '../../engine/train/resident-step';
import { OnnxTrainStep, type LossConfig } from '../../engine/train/train-graph';
import { validateConfig } from '../../engine/zoo/registry';

/**
 * The two training steps (gradients to the host; update in the graph) describe themselves the same
 * way and feed a batch the same way (graph-step.ts): same parameters, provider and layout, and a
 * distillation batch without the teacher's outputs refused by both.
 */

const model = validateConfig({ family: 'edsr', num_feat: 4, num_block: 1, res_scale: 1 });
// MultiLap's 5 levels need HR sides of at least 24
const shape = { batch: 1, patch: 16 };
const distill: LossConfig = { type: 'distill', hrWeight: 0.1, levelWeights: 'paper' };

describe('OnnxTrainStep and ResidentTrainStep', () => {
  it('report the same parameters, provider and layout, and both refuse a distillation batch without teacher outputs', async () => {
    const host = await OnnxTrainStep.create(model, distill, shape);
    const fused = await ResidentTrainStep.create(model, distill, shape, { adam: ADAM_DEFAULTS, gradClip: 0 });
    try {
      for (const step of [host, fused]) {
        expect(step.ep).toBe('cpu');
        expect(step.epReport.used).toBe('cpu');
        expect(step.target).toBe('cpu');
      }
      expect(host.paramKeys.length).toBeGreaterThan(0);
      expect(fused.paramKeys).toEqual(host.paramKeys);
      expect([...fused.paramShapes]).toEqual([...host.paramShapes]);
      expect([...host.paramShapes.keys()]).toEqual(expect.arrayContaining([...host.paramKeys]));

      const batch = { step: 0, lr: new Float32Array(3 * 16 * 16), hr: new Float32Array(3 * 32 * 32) };
      const params = new Map([...host.paramShapes].map(([k, s]) => [k, new Float32Array(s.reduce((a, b) => a * b, 1))]));
      await expect(host.run(params, batch)).rejects.toThrow(/needs teacher outputs/);
      fused.load({ params, 'adam.m': params, 'adam.v': params, ema: params });
      await expect(fused.run(batch, { stepSize: 1e-3, bc2Sqrt: 1, decay: 1, emaDecay: 0.999 })).rejects.toThrow(/needs teacher outputs/);
    } finally {
      await host.release();
      await fused.release();
    }
  });
});
