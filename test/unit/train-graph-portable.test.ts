import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { MAX_FAN_IO } from '../../engine/graph/graph';
import { ADAM_DEFAULTS, type AdamConfig } from '../../engine/train/optim';
import { buildTrainGraph, type LossConfig } from '../../engine/train/train-graph';
import { buildUpdateGraph } from '../../engine/train/update-graph';
import { presetConfig } from '../../engine/zoo/presets';

const { onnx } = onnxProto;

/**
 * Training graphs built for a GPU (`gpu` target, what OnnxTrainStep builds for every provider but
 * the CPU) must run wholly there. WEBGPU_PLACED lists the op types of training graphs whose every
 * node ORT placed on the WebGPU EP (verbose node placement, `scripts/bench/device-train.sh` on the
 * H200 machine); there `Sign` and `SpaceToDepth` fell back to the CPU, so GPU graphs avoid them.
 * `Sqrt` and `Min` (the in-graph Adam update and clipping) were seen placed on lavapipe
 * (test/webgpu), the same WebGPU EP code.
 * An op type outside the list has not been seen on a GPU: run that script, then add it here. The
 * fan limit is WebGPU's 16 storage buffers per shader (a 32-way Split failed there).
 */
const WEBGPU_PLACED = new Set([
  'Abs',
  'Add',
  'Cast',
  'Clip',
  'Concat',
  'Conv',
  'ConvTranspose',
  'DepthToSpace',
  'Div',
  'Erf',
  'Exp',
  'Expand',
  'Gather',
  'Greater',
  'Identity',
  'LayerNormalization',
  'MatMul',
  'Min',
  'Mul',
  'Neg',
  'Pad',
  'ReduceMean',
  'ReduceSum',
  'Relu',
  'Reshape',
  'ScatterElements',
  'Slice',
  'Softmax',
  'Split',
  'Sqrt',
  'Sub',
  'Transpose',
  'Where',
]);

// The in-graph update with every optional part: AdamW's decay input and gradient clipping.
const ADAMW: AdamConfig = { ...ADAM_DEFAULTS, type: 'adamw', weightDecay: 1e-4 };
const LOSSES: LossConfig[] = [{ type: 'l1' }, { type: 'distill', hrWeight: 0.1, levelWeights: 'paper' }];
// The benchmark's shapes.
const CASES = [
  { preset: 'edsr-mini', batch: 16, patch: 48 },
  { preset: 'swinir-mini', batch: 16, patch: 64 },
] as const;

describe('GPU training graphs stay within what the GPU providers run', () => {
  for (const c of CASES)
    for (const loss of LOSSES)
      for (const update of ['host', 'graph'] as const)
        it(`${c.preset}, ${loss.type} loss, ${update} update`, () => {
          const shape = { batch: c.batch, patch: c.patch };
          const built =
            update === 'host'
              ? buildTrainGraph(presetConfig(c.preset), loss, shape, 'gpu')
              : buildUpdateGraph(presetConfig(c.preset), loss, shape, { adam: ADAMW, gradClip: 1 }, 'gpu');
          const { graph } = onnx.ModelProto.decode(built.onnx);
          const nodes = graph!.node!;
          const types = new Set(nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType!)));
          expect([...types].filter((t) => !WEBGPU_PLACED.has(t))).toEqual([]);
          const widest = Math.max(
            ...nodes.map((n) => (n.opType === 'Concat' ? n.input!.length : n.opType === 'Split' ? n.output!.length : 0)),
          );
          expect(widest).toBeLessThanOrEqual(MAX_FAN_IO);
        });
});
