import { describe, expect, it } from 'vitest';
import { summarizeOnnx } from '../../engine/graph/onnx';
import { ADAM_DEFAULTS } from '../../engine/train/optim';
import { optimizedNodeCount, residentStepTransfer, stepTransfer } from '../../engine/train/step-metrics';
import { buildUpdateGraph, STATE } from '../../engine/train/update-graph';
import { buildTrainGraph } from '../../engine/train/train-graph';
import { validateConfig } from '../../engine/zoo/registry';

const config = validateConfig({ family: 'edsr', num_feat: 4, num_block: 1, res_scale: 1 });
const shape = { batch: 2, patch: 16 };

describe('training step metrics', () => {
  it('host<->device bytes are exactly the graph inputs up and its outputs down (float32)', () => {
    for (const loss of [{ type: 'l1' } as const, { type: 'distill', hrWeight: 0.1, levelWeights: 'paper' } as const]) {
      const built = buildTrainGraph(config, loss, shape, 'cpu');
      const s = summarizeOnnx(built.onnx);
      const bytes = (vs: { shape: (number | string)[] }[]) =>
        vs.reduce((a, v) => a + 4 * v.shape.reduce<number>((x, d) => x * Number(d), 1), 0);
      expect(stepTransfer(built, shape, 2)).toEqual({ upBytes: bytes(s.inputs), downBytes: bytes(s.outputs) });
    }
  });

  it('with the in-graph update resident, only the batch and the scalar inputs go up and the loss comes down', () => {
    for (const type of ['adam', 'adamw'] as const) {
      const built = buildUpdateGraph(config, { type: 'distill', hrWeight: 0.1, levelWeights: 'paper' }, shape, {
        adam: { ...ADAM_DEFAULTS, type },
        gradClip: 0,
      });
      const s = summarizeOnnx(built.onnx);
      const resident = new Set<string>(STATE);
      const bytes = (vs: { name: string; shape: (number | string)[] }[]) =>
        vs.filter((v) => !resident.has(v.name)).reduce((a, v) => a + 4 * v.shape.reduce<number>((x, d) => x * Number(d), 1), 0);
      expect(s.inputs.filter((v) => resident.has(v.name))).toHaveLength(4);
      expect(residentStepTransfer(built, shape, 2)).toEqual({ upBytes: bytes(s.inputs), downBytes: 4 });
      expect(s.outputs.map((v) => v.name)).toContain('loss');
    }
  });

  it('counts nodes before and after ORT optimisation (its fusions remove some)', async () => {
    const built = buildTrainGraph(config, { type: 'l1' }, shape, 'cpu');
    const { before, after } = await optimizedNodeCount(built.onnx, 'cpu');
    expect(before).toBe(Object.values(summarizeOnnx(built.onnx).opCounts).reduce((a, b) => a + b, 0));
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(before);
  });
});
