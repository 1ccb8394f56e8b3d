import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { OPS, type OpType } from '../../engine/graph/ops';
import { toOnnx, summarizeOnnx } from '../../engine/graph/onnx';
import type { Value } from '../../engine/graph/value';
import { ModelSession } from '../../engine/runtime/session';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';

/**
 * Every op in the table gets a case: we build it with our shape rule, run it in
 * onnxruntime-node, and require ORT's output shapes to equal ours. A new op without a case
 * fails the coverage test below.
 */

type Case = (g: Graph, x: (shape: number[]) => Value) => Value[];

const f = (g: Graph, x: (s: number[]) => Value) => x([2, 3, 8, 6]);

const CASES: Record<OpType, Case> = {
  Identity: (g, x) => g.op('Identity', [f(g, x)]),
  Neg: (g, x) => g.op('Neg', [f(g, x)]),
  Abs: (g, x) => g.op('Abs', [f(g, x)]),
  Sqrt: (g, x) => g.op('Sqrt', [g.abs(f(g, x))]),
  Exp: (g, x) => g.op('Exp', [f(g, x)]),
  Log: (g, x) => g.op('Log', [g.abs(f(g, x))]),
  Erf: (g, x) => g.op('Erf', [f(g, x)]),
  Sigmoid: (g, x) => g.op('Sigmoid', [f(g, x)]),
  Tanh: (g, x) => g.op('Tanh', [f(g, x)]),
  Sign: (g, x) => g.op('Sign', [f(g, x)]),
  Reciprocal: (g, x) => g.op('Reciprocal', [f(g, x)]),
  Floor: (g, x) => g.op('Floor', [f(g, x)]),
  Relu: (g, x) => g.op('Relu', [f(g, x)]),
  LeakyRelu: (g, x) => g.op('LeakyRelu', [f(g, x)], { alpha: 0.2 }),
  Add: (g, x) => g.op('Add', [x([4, 1, 5]), x([3, 1])]),
  Sub: (g, x) => g.op('Sub', [x([4, 1, 5]), g.scalar(2)]),
  Mul: (g, x) => g.op('Mul', [x([1, 5]), x([3, 1])]),
  Div: (g, x) => g.op('Div', [x([2, 5]), g.scalar(3)]),
  Pow: (g, x) => g.op('Pow', [g.abs(x([2, 5])), g.scalar(1.5)]),
  Max: (g, x) => g.op('Max', [x([2, 5]), x([5])]),
  Min: (g, x) => g.op('Min', [x([2, 5]), x([5])]),
  Greater: (g, x) => g.op('Greater', [x([2, 5]), g.scalar(0)]),
  Less: (g, x) => g.op('Less', [x([2, 5]), g.scalar(0)]),
  Equal: (g, x) => g.op('Equal', [g.ints([1, 2, 3]), g.ints([1, 0, 3])]),
  Where: (g, x) => g.op('Where', [g.op1('Greater', [x([2, 5]), g.scalar(0)]), x([2, 5]), g.scalar(0)]),
  Cast: (g, x) => g.op('Cast', [x([2, 5])], { to: 7 }),
  Clip: (g, x) => g.op('Clip', [x([2, 5]), g.scalar(0), g.scalar(1)]),
  MatMul: (g, x) => g.op('MatMul', [x([2, 3, 4, 5]), x([3, 5, 7])]),
  Conv: (g, x) => [
    g.conv(x([2, 3, 9, 7]), x([4, 3, 3, 3]), x([4])),
    g.conv(x([1, 4, 8, 8]), x([4, 2, 3, 1]), undefined, { group: 2, strides: [2, 1], pads: [1, 0, 0, 0] }),
  ],
  ConvTranspose: (g, x) =>
    g.op('ConvTranspose', [x([1, 4, 5, 6]), x([4, 2, 3, 3])], {
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      output_padding: [1, 1],
      kernel_shape: [3, 3],
    }),
  AveragePool: (g, x) => g.op('AveragePool', [x([1, 2, 9, 8])], { kernel_shape: [2, 2], strides: [2, 2] }),
  Softmax: (g, x) => [g.softmax(x([2, 3, 5]), -1)],
  LayerNormalization: (g, x) => [g.layerNorm(x([2, 7, 6]), x([6]), x([6]))],
  Reshape: (g, x) => [g.reshape(x([2, 3, 4]), [0, -1, 2])],
  Transpose: (g, x) => [g.transpose(x([2, 3, 4, 5]), [0, 2, 3, 1])],
  Flatten: (g, x) => g.op('Flatten', [x([2, 3, 4])], { axis: 2 }),
  Unsqueeze: (g, x) => g.op('Unsqueeze', [x([2, 3]), g.ints([0, -1])]),
  Squeeze: (g, x) => g.op('Squeeze', [x([2, 1, 3, 1]), g.ints([1, 3])]),
  Expand: (g, x) => g.op('Expand', [x([3, 1]), g.ints([2, 3, 4])]),
  Tile: (g, x) => g.op('Tile', [x([2, 3]), g.ints([2, 3])]),
  Slice: (g, x) => [g.slice(x([5, 8]), [1, -1], [100, 0], [0, 1], [2, -3]), g.slice(x([5, 8]), [-3], [8], [1])],
  Concat: (g, x) => [g.concat([x([2, 3]), x([2, 5])], -1)],
  Split: (g, x) => g.op('Split', [x([2, 7]), g.ints([3, 4])], { axis: 1 }, 2),
  Gather: (g, x) =>
    g.op('Gather', [x([10, 3]), g.constant({ dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([0n, 9n, 3n, 3n]) })], { axis: 0 }),
  ScatterElements: (g, x) =>
    g.op(
      'ScatterElements',
      [x([4, 3]), g.constant({ dtype: 'int64', shape: [2, 3], data: BigInt64Array.from([0n, 1n, 2n, 0n, 1n, 3n]) }), x([2, 3])],
      { axis: 0, reduction: 'add' },
    ),
  DepthToSpace: (g, x) => [g.depthToSpace(x([1, 12, 3, 4]), 2)],
  SpaceToDepth: (g, x) => g.op('SpaceToDepth', [x([1, 3, 4, 6])], { blocksize: 2 }),
  Pad: (g, x) => g.op('Pad', [x([1, 2, 5, 6]), g.ints([0, 0, 2, 1, 0, 0, 2, 3])], { mode: 'reflect' }),
  ReduceMean: (g, x) => [g.reduceMean(x([2, 3, 4]), [1, -1], false)],
  ReduceMax: (g, x) => g.op('ReduceMax', [x([2, 3, 4])], { axes: [0], keepdims: 1 }),
  ReduceSum: (g, x) => [
    g.op1('ReduceSum', [x([2, 3, 4]), g.ints([1])], { keepdims: 0 }),
    g.op1('ReduceSum', [x([2, 3, 4])], { keepdims: 0 }),
  ],
};

function randomFill(t: HostTensor, seed: number): HostTensor {
  const d = t.data as Float32Array;
  let s = seed;
  for (let i = 0; i < d.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32) * 2 - 1;
  }
  return t;
}

describe('op table shape rules agree with onnxruntime', () => {
  it('has a case for every op in the table', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(OPS).sort());
  });

  for (const [op, build] of Object.entries(CASES)) {
    it(op, async () => {
      const g = new Graph(op);
      const feeds: Record<string, HostTensor> = {};
      let n = 0;
      const x = (shape: number[]) => {
        const v = g.input(`x${n}`, shape);
        feeds[v.name] = randomFill(float32Tensor(shape), ++n);
        return v;
      };
      const outs = build(g, x);
      outs.forEach((v, i) => g.output(v, `out${i}`));
      const session = await ModelSession.create(toOnnx(g, { params: 'initializers' }));
      const result = await session.run(feeds);
      for (const v of g.outputs) {
        expect(result[v.name]!.shape, `${op} output ${v.name}`).toEqual(v.shape);
        expect(result[v.name]!.data.length).toBe(numel(v.shape));
      }
      await session.release();
    });
  }
});

describe('graph builder', () => {
  it('rejects shape errors where they are written, naming the node', () => {
    const g = new Graph();
    const a = g.input('a', [2, 3]);
    const b = g.input('b', [4, 5]);
    expect(() => g.matmul(a, b)).toThrow(/MatMul.*inner dimensions/);
    expect(() => g.add(a, b)).toThrow(/broadcast/);
    expect(() => g.reshape(a, [5, -1])).toThrow(/cannot reshape/);
  });

  it('rejects unknown attributes and ops', () => {
    const g = new Graph();
    const a = g.input('a', [2, 3]);
    expect(() => g.op('Softmax', [a], { axes: 1 })).toThrow(/no attribute axes/);
    expect(() => g.op('Foo' as OpType, [a])).toThrow(/not in the op table/);
  });

  it('exports parameters as initializers or as inputs', async () => {
    const g = new Graph();
    const x = g.input('x', [1, 2, 4, 4]);
    const w = g.param('conv.weight', [3, 2, 3, 3]);
    const b = g.param('conv.bias', [3]);
    g.output(g.relu(g.conv(x, w, b)), 'y');
    expect(() => toOnnx(g, { params: 'initializers' })).toThrow(/no weights for parameter conv.weight/);

    const weights = new Map([
      ['conv.weight', randomFill(float32Tensor([3, 2, 3, 3]), 7)],
      ['conv.bias', randomFill(float32Tensor([3]), 8)],
    ]);
    const feeds = { x: randomFill(float32Tensor([1, 2, 4, 4]), 9) };
    const inf = await ModelSession.create(toOnnx(g, { params: 'initializers', weights, metadata: { preset: 'test' } }));
    const train = await ModelSession.create(toOnnx(g, { params: 'inputs' }));
    expect(train.inputNames).toEqual(['x', 'conv.weight', 'conv.bias']);
    const a = (await inf.run(feeds)).y!.data as Float32Array;
    const c = (await train.run({ ...feeds, 'conv.weight': weights.get('conv.weight')!, 'conv.bias': weights.get('conv.bias')! })).y!
      .data as Float32Array;
    // Prepacked constant weights take another kernel path: equal up to rounding.
    expect(Math.max(...a.map((v, i) => Math.abs(v - c[i]!)))).toBeLessThan(1e-5);
    expect(a.some((v) => v > 0)).toBe(true);

    const summary = summarizeOnnx(toOnnx(g, { params: 'initializers', weights, metadata: { preset: 'test' } }));
    expect(summary.opset).toBe(17);
    expect(summary.inputs).toEqual([{ name: 'x', shape: [1, 2, 4, 4], dtype: 'float32' }]);
    expect(summary.opCounts).toEqual({ Conv: 1, Relu: 1, Identity: 1 });
    expect(summary.metadata.preset).toBe('test');
  });

  it('refuses bytes that are not an ONNX model', () => {
    expect(() => summarizeOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]))).toThrow(/not a valid ONNX model/);
  });
});
