import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { buildTrainingGraph } from '../../engine/graph/autodiff';
import { loadStateDict } from '../../engine/io/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import type { HostTensor } from '../../engine/io/tensor';
import { distillationLoss } from '../../engine/train/losses';
import { bindWeights } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';
import { resolveArch } from '../../engine/zoo/registry';
import { sharedAvailable, sharedPath } from '../helpers/shared';
import { relErr, runGraph } from '../unit/autodiff-helpers';

/**
 * Whole-model gradients against PyTorch: loss = MultiLap(student(input), teacher_out)
 * + 0.1 L1(student(input), hr); every grad.<param> within 1e-3 (max abs error over the
 * tensor's max abs value).
 */
const CASES = [
  ['edsr-mini', 'edsr_mini'],
  ['swinir-mini', 'swinir_mini'],
] as const;

describe.runIf(sharedAvailable('golden whole-model gradients'))('golden whole-model gradients', () => {
  for (const [preset, file] of CASES) {
    it(`${preset}: loss and every parameter gradient match PyTorch`, async () => {
      const { tensors: golden } = await readSafetensors(sharedPath('golden', `${file}_x2_grad.safetensors`));
      const config = presetConfig(preset);
      const weights = bindWeights(config, await loadStateDict(sharedPath('golden', `${file}_x2_golden.pth`)));
      const input = golden.get('input')!;
      const hr = golden.get('hr')!;
      const teacher = golden.get('teacher_out')!;

      const g = new Graph(`${preset}-train`);
      const x = g.input('input', input.shape);
      const hrV = g.input('hr', hr.shape);
      const tV = g.input('teacher_out', teacher.shape);
      const student = resolveArch(config).build(g, x);
      const t = buildTrainingGraph(g, distillationLoss(g, student, tV, hrV));

      const feeds: Record<string, HostTensor> = { input, hr, teacher_out: teacher };
      for (const key of g.params.keys()) feeds[key] = weights.get(key)!;
      const out = await runGraph(g, feeds);

      const expectedGrads = [...golden.keys()].filter((k) => k.startsWith('grad.')).sort();
      expect([...t.grads.values()].sort()).toEqual(expectedGrads);
      const lossErr = relErr(out.loss!.data as Float32Array, golden.get('loss')!);
      let worst = { key: '', err: 0 };
      for (const key of expectedGrads) {
        const err = relErr(out[key]!, golden.get(key)!);
        if (err > worst.err) worst = { key, err };
      }
      console.log(
        `${preset}: loss ${(out.loss!.data as Float32Array)[0]} rel err ${lossErr.toExponential(2)}; worst grad ${worst.key} rel err ${worst.err.toExponential(2)} over ${expectedGrads.length} params`,
      );
      expect(lossErr).toBeLessThan(1e-3);
      expect(worst.err).toBeLessThan(1e-3);
    });
  }
});
