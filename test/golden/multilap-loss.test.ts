import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { gradients } from '../../engine/graph/autodiff';
import { readSafetensors } from '../../engine/io/safetensors';
import { multiLapLoss } from '../../engine/train/losses';
import { sharedAvailable, sharedPath } from '../helpers/shared';
import { relErr, runGraph } from '../unit/autodiff-helpers';

/** The paper's MultiLap loss and its gradient against PyTorch (multilap_loss.safetensors). */
describe.runIf(sharedAvailable('MultiLap golden'))('MultiLap loss golden', () => {
  it('reproduces loss and grad_pred within 1e-3 relative error', async () => {
    const { tensors } = await readSafetensors(sharedPath('golden', 'multilap_loss.safetensors'));
    const pred = tensors.get('pred')!;
    const target = tensors.get('target')!;
    const g = new Graph('multilap');
    const p = g.input('pred', pred.shape);
    const t = g.input('target', target.shape);
    const loss = multiLapLoss(g, p, t);
    const grad = gradients(g, loss, [p]).get(p)!;
    g.output(loss, 'loss');
    g.output(grad, 'grad_pred');
    const out = await runGraph(g, { pred, target });
    const lossErr = relErr(out.loss!.data as Float32Array, tensors.get('loss')!);
    const gradErr = relErr(out.grad_pred!, tensors.get('grad_pred')!);
    console.log(
      `MultiLap golden: loss ${(out.loss!.data as Float32Array)[0]} vs ${(tensors.get('loss')!.data as Float32Array)[0]}, rel err ${lossErr.toExponential(2)}, grad rel err ${gradErr.toExponential(2)}`,
    );
    expect(lossErr).toBeLessThan(1e-3);
    expect(gradErr).toBeLessThan(1e-3);
  });
});
