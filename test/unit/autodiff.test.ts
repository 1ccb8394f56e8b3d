import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { Graph } from '../../engine/graph/graph';
import { buildTrainingGraph, gradients } from '../../engine/graph/autodiff';
import { toOnnx } from '../../engine/graph/onnx';
import { OPS } from '../../engine/graph/ops';
import type { Value } from '../../engine/graph/value';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { charbonnierLoss, distillationLoss, l1Loss, mseLoss, multiLapLoss } from '../../engine/train/losses';
import { presetConfig } from '../../engine/zoo/presets';
import { resolveArch } from '../../engine/zoo/registry';
import { randomData, relErr, runGraph } from './autodiff-helpers';

const { onnx } = onnxProto;

function trainingGraphFor(preset: string, n: number, h: number, w: number): Graph {
  const g = new Graph(preset);
  const arch = resolveArch(presetConfig(preset));
  const x = g.input('input', [n, 3, h, w]);
  const out = arch.build(g, x);
  const t = g.input('teacher', out.shape);
  const hr = g.input('hr', out.shape);
  buildTrainingGraph(g, distillationLoss(g, out, t, hr));
  return g;
}

function backwardNodeCount(g: Graph): number {
  return g.nodes.filter((n) => n.name.startsWith('grad/')).length;
}

describe('training graphs', () => {
  it('contain only default-domain ONNX ops from the op table (EDSRmini, SwinIRmini, losses)', () => {
    for (const g of [trainingGraphFor('edsr-mini', 2, 16, 16), trainingGraphFor('swinir-mini', 1, 16, 16)]) {
      const model = onnx.ModelProto.decode(toOnnx(g, { params: 'inputs' }));
      expect(model.opsetImport.map((o) => o.domain ?? '')).toEqual(['']);
      const bad = (model.graph?.node ?? []).filter((n) => (n.domain ?? '') !== '' || !Object.hasOwn(OPS, n.opType ?? ''));
      expect(bad.map((n) => `${n.domain}:${n.opType}`)).toEqual([]);
      expect(g.nodes.length).toBeGreaterThan(100);
    }
  });

  it('outputs loss and grad.<key> for exactly the learnable parameters', () => {
    const g = new Graph();
    const x = g.input('x', [1, 2, 4, 4]);
    const w = g.param('conv.weight', [2, 2, 3, 3]);
    const b = g.param('conv.bias', [2]);
    const mean = g.param('mean', [1, 2, 1, 1], { learnable: false });
    const y = g.conv(g.sub(x, mean), w, b);
    const t = buildTrainingGraph(g, l1Loss(g, y, x), { monitors: { mse: mseLoss(g, y, x) } });
    expect(t.params).toEqual(['conv.weight', 'conv.bias']);
    expect(g.outputs.map((o) => o.name)).toEqual(['loss', 'grad.conv.weight', 'grad.conv.bias', 'mse']);
    expect([...t.grads]).toEqual([
      ['conv.weight', 'grad.conv.weight'],
      ['conv.bias', 'grad.conv.bias'],
    ]);
  });

  it('differentiates nothing on frozen paths (teacher branch, fixed buffers)', () => {
    const build = (withTeacher: boolean) => {
      const g = new Graph();
      const x = g.input('x', [1, 3, 8, 8]);
      const w = g.param('w', [3, 3, 3, 3]);
      const student = g.relu(g.conv(x, w, undefined));
      // The frozen teacher: a conv with a non-learnable weight on another input.
      const target = withTeacher
        ? g.relu(g.conv(g.input('t', [1, 3, 8, 8]), g.param('teacher.w', [3, 3, 3, 3], { learnable: false }), undefined))
        : g.input('t', [1, 3, 8, 8]);
      buildTrainingGraph(g, l1Loss(g, student, target));
      return g;
    };
    expect(backwardNodeCount(build(true))).toBe(backwardNodeCount(build(false)));
    expect(backwardNodeCount(build(true))).toBeGreaterThan(0);
  });

  it('accumulates gradients of values used more than once', async () => {
    const g = new Graph();
    const a = g.input('a', [3]);
    const loss = g.reduceSum(g.add(g.mul(a, a), g.mul(a, g.scalar(3))), undefined, false); // d/da = 2a + 3
    g.output(gradients(g, loss, [a]).get(a)!, 'da');
    const out = await runGraph(g, { a: float32Tensor([3], new Float32Array([1, -2, 0.5])) });
    expect(Array.from(out.da!.data as Float32Array)).toEqual([5, -1, 4]);
  });

  it('gives zeros for a wrt value the loss does not depend on', async () => {
    const g = new Graph();
    const a = g.input('a', [2]);
    const unused = g.input('u', [2, 2]);
    const loss = g.reduceSum(g.mul(a, a), undefined, false);
    g.output(gradients(g, loss, [unused]).get(unused)!, 'du');
    const out = await runGraph(g, { a: float32Tensor([2]), u: float32Tensor([2, 2]) });
    expect(Array.from(out.du!.data as Float32Array)).toEqual([0, 0, 0, 0]);
  });

  it('throws naming the op and node when a rule is missing', () => {
    const g = new Graph();
    const a = g.input('a', [4, 3]);
    const idx = g.constant({ dtype: 'int64', shape: [1, 3], data: BigInt64Array.from([0n, 1n, 2n]) });
    const s = g.op1('ScatterElements', [a, idx, g.zeros([1, 3])], { axis: 0 });
    expect(() => gradients(g, g.reduceSum(s, undefined, false), [a])).toThrow(
      /no gradient rule for ScatterElements \(node ScatterElements_\d+\)/,
    );
  });

  it('rejects a non-scalar loss', () => {
    const g = new Graph();
    const a = g.param('a', [2]);
    expect(() => buildTrainingGraph(g, g.mul(a, a))).toThrow(/loss must be a scalar/);
  });
});

describe('losses', () => {
  const feeds = (shape: number[]): Record<string, HostTensor> => ({
    p: float32Tensor(
      shape,
      randomData(
        shape.reduce((a, b) => a * b),
        5,
      ),
    ),
    t: float32Tensor(
      shape,
      randomData(
        shape.reduce((a, b) => a * b),
        6,
      ),
    ),
  });
  const reference = (f: (d: number) => number, fd: Record<string, HostTensor>) => {
    const p = fd.p!.data as Float32Array;
    const t = fd.t!.data as Float32Array;
    let s = 0;
    p.forEach((v, i) => (s += f(v - t[i]!)));
    return s / p.length;
  };
  const cases: [string, (g: Graph, p: Value, t: Value) => Value, (d: number) => number][] = [
    ['l1', l1Loss, Math.abs],
    ['mse', mseLoss, (d) => d * d],
    ['charbonnier', (g, p, t) => charbonnierLoss(g, p, t), (d) => Math.sqrt(d * d + 1e-6)],
  ];
  for (const [name, loss, f] of cases) {
    it(`${name} matches its definition`, async () => {
      const g = new Graph();
      const fd = feeds([2, 3, 4, 4]);
      g.output(loss(g, g.input('p', [2, 3, 4, 4]), g.input('t', [2, 3, 4, 4])), 'loss');
      const out = await runGraph(g, fd);
      expect(out.loss!.shape).toEqual([]);
      expect(relErr(out.loss!.data as Float32Array, new Float32Array([reference(f, fd)]))).toBeLessThan(1e-5);
    });
  }
  it('rejects mismatched shapes and pyramid-incompatible sizes', () => {
    const g = new Graph();
    expect(() => l1Loss(g, g.input('a', [1, 3, 4, 4]), g.input('b', [1, 3, 4, 5]))).toThrow(/differ in shape/);
    expect(() => distillationLoss(g, g.input('c', [1, 3, 24, 24]), g.input('d', [1, 3, 24, 24]), g.input('e', [1, 3, 24, 24]))).toThrow(
      /divisible by 16/,
    );
  });
});

describe('MultiLap input sizes', () => {
  it('needs H and W divisible by 16 and at least 24', () => {
    const g = new Graph();
    expect(() => multiLapLoss(g, g.input('a', [1, 3, 16, 16]), g.input('b', [1, 3, 16, 16]))).toThrow(/at least 24/);
    expect(() => multiLapLoss(g, g.input('c', [1, 3, 40, 32]), g.input('d', [1, 3, 40, 32]))).toThrow(/divisible by 16/);
    expect(multiLapLoss(g, g.input('e', [1, 3, 32, 48]), g.input('f', [1, 3, 32, 48])).shape).toEqual([]);
  });
});
