import { afterAll, describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { Graph } from '../../engine/graph/graph';
import { gradients } from '../../engine/graph/autodiff';
import { toOnnx } from '../../engine/graph/onnx';
import { OPS, type OpType } from '../../engine/graph/ops';
import type { Value } from '../../engine/graph/value';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { randomData } from './autodiff-helpers';

/**
 * Numeric Jacobian check of every gradient rule: loss = sum(output * R) with a fixed random R;
 * the analytic gradient (our backward graph, run in onnxruntime) against central differences of
 * the forward graph (also in onnxruntime), float32, eps 1e-2, on up to 16 random elements of
 * each input. Pass: max |analytic - numeric| <= 1e-2 * max(1, max |numeric|).
 * Inputs of non-smooth ops are drawn away from their kinks so a step of eps never crosses one.
 */

const { onnx } = onnxProto;
const EPS = 1e-2;
const TOL = 1e-2;
const SAMPLES = 16;

type Gen = 'any' | 'positive' | 'awayFromZero';
interface Builder {
  g: Graph;
  /** A checked float input. */
  x(shape: number[], gen?: Gen): Value;
  /** A fixed float constant (no gradient checked). */
  c(shape: number[], gen?: Gen): Value;
}
type Case = (b: Builder) => Value | Value[];

function gen(n: number, seed: number, kind: Gen): Float32Array {
  const d = randomData(n, seed);
  if (kind === 'positive') return d.map((v) => 0.3 + Math.abs(v));
  if (kind === 'awayFromZero') return d.map((v) => (v < 0 ? -0.2 : 0.2) + v * 0.8);
  return d;
}

const ints = (g: Graph, xs: number[]) => g.constant({ dtype: 'int64', shape: [xs.length], data: BigInt64Array.from(xs.map(BigInt)) });

/** Cases keyed by op; several variants per op where the rule has branches. */
const CASES: Partial<Record<OpType, Record<string, Case>>> = {
  Identity: { plain: ({ g, x }) => g.op1('Identity', [x([2, 3])]) },
  Neg: { plain: ({ g, x }) => g.neg(x([2, 3])) },
  Abs: { plain: ({ g, x }) => g.abs(x([2, 3, 4], 'awayFromZero')) },
  Sqrt: { plain: ({ g, x }) => g.sqrt(x([2, 3, 4], 'positive')) },
  Exp: { plain: ({ g, x }) => g.op1('Exp', [x([2, 3, 4])]) },
  Log: { plain: ({ g, x }) => g.op1('Log', [x([2, 3, 4], 'positive')]) },
  Erf: { plain: ({ g, x }) => g.op1('Erf', [x([2, 3, 4])]), gelu: ({ g, x }) => g.gelu(x([3, 5])) },
  Sigmoid: { plain: ({ g, x }) => g.op1('Sigmoid', [x([2, 3, 4])]) },
  Tanh: { plain: ({ g, x }) => g.op1('Tanh', [x([2, 3, 4])]) },
  Reciprocal: { plain: ({ g, x }) => g.op1('Reciprocal', [x([2, 3, 4], 'positive')]) },
  Relu: { plain: ({ g, x }) => g.relu(x([2, 3, 4], 'awayFromZero')) },
  LeakyRelu: { plain: ({ g, x }) => g.op1('LeakyRelu', [x([2, 3, 4], 'awayFromZero')], { alpha: 0.2 }) },
  Add: { broadcast: ({ g, x }) => g.add(x([4, 1, 5]), x([3, 1])), scalar: ({ g, x }) => g.add(x([2, 3]), g.scalar(1)) },
  Sub: { broadcast: ({ g, x }) => g.sub(x([4, 1, 5]), x([5])) },
  Mul: {
    broadcast: ({ g, x }) => g.mul(x([1, 5]), x([3, 1])),
    square: ({ g, x }) => {
      const a = x([3, 4]);
      return g.mul(a, a);
    },
  },
  Div: { broadcast: ({ g, x }) => g.div(x([2, 5]), x([5], 'positive')) },
  Pow: { constExponent: ({ g, x }) => g.op1('Pow', [x([2, 5], 'positive'), g.scalar(1.7)]) },
  Max: { plain: ({ g, x, c }) => g.op1('Max', [x([2, 5], 'awayFromZero'), c([2, 5], 'awayFromZero')]) },
  Min: { plain: ({ g, x, c }) => g.op1('Min', [x([2, 5], 'awayFromZero'), c([2, 5], 'awayFromZero')]) },
  Where: { data: ({ g, x, c }) => g.where(g.op1('Greater', [c([2, 5]), g.scalar(0)]), x([2, 5]), x([5])) },
  Clip: { bounds: ({ g, x }) => g.op1('Clip', [x([3, 7], 'awayFromZero'), g.scalar(-0.1), g.scalar(0.1)]) },
  MatMul: {
    batched: ({ g, x }) => g.matmul(x([2, 3, 4, 5]), x([3, 5, 7])),
    weight2d: ({ g, x }) => g.matmul(x([2, 3, 4]), x([4, 5])),
  },
  Conv: {
    k3bias: ({ g, x }) => g.conv(x([2, 3, 6, 5]), x([4, 3, 3, 3]), x([4])),
    fewerOutputs: ({ g, x }) => g.conv(x([2, 5, 6, 5]), x([2, 5, 3, 3]), x([2])),
    fewerOutputsAsymmetric: ({ g, x }) => g.conv(x([1, 4, 5, 6]), x([3, 4, 3, 2]), undefined, { pads: [2, 0, 0, 1] }),
    sameChannelsAsymmetric: ({ g, x }) => g.conv(x([2, 3, 5, 6]), x([3, 3, 3, 2]), x([3]), { pads: [2, 0, 0, 1] }),
    moreOutputs: ({ g, x }) => g.conv(x([2, 2, 5, 4]), x([3, 2, 3, 3]), x([3])),
    // Co >= 4 Ci: every weight-gradient shift on x; Ci >= 4 Co: every shift on dY.
    manyMoreOutputs: ({ g, x }) => g.conv(x([2, 2, 5, 4]), x([8, 2, 3, 3]), x([8])),
    manyFewerOutputs: ({ g, x }) => g.conv(x([2, 8, 4, 5]), x([2, 8, 3, 3]), x([2]), { pads: [2, 1, 0, 1] }),
    pointwise: ({ g, x }) => g.conv(x([2, 2, 4, 3]), x([2, 2, 1, 1]), undefined, { pads: [0, 0, 0, 0] }),
    stride2: ({ g, x }) => g.conv(x([1, 2, 7, 6]), x([3, 2, 3, 3]), x([3]), { strides: [2, 2] }),
    asymmetric: ({ g, x }) => g.conv(x([1, 2, 6, 6]), x([2, 2, 3, 1]), undefined, { strides: [2, 1], pads: [1, 0, 0, 0] }),
    depthwiseConstWeights: ({ g, x, c }) => g.conv(x([2, 3, 6, 6]), c([3, 1, 5, 5]), undefined, { group: 3, pads: [0, 0, 0, 0] }),
    groupedData: ({ g, x, c }) => g.conv(x([1, 4, 5, 5]), c([6, 2, 3, 3]), undefined, { group: 2 }),
  },
  ConvTranspose: {
    data: ({ g, x, c }) => g.op1('ConvTranspose', [x([1, 3, 4, 5]), c([3, 2, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
  },
  AveragePool: {
    k2s2: ({ g, x }) => g.op1('AveragePool', [x([1, 2, 6, 4])], { kernel_shape: [2, 2], strides: [2, 2] }),
    oddSize: ({ g, x }) => g.op1('AveragePool', [x([1, 2, 5, 7])], { kernel_shape: [2, 2], strides: [2, 2] }),
    overlapping: ({ g, x }) => g.op1('AveragePool', [x([1, 2, 6, 5])], { kernel_shape: [3, 3], strides: [1, 1] }),
  },
  Softmax: { lastAxis: ({ g, x }) => g.softmax(x([2, 3, 5])), axis1: ({ g, x }) => g.softmax(x([2, 4, 3]), 1) },
  LayerNormalization: {
    savedStats: ({ g, x }) => g.layerNorm(x([2, 4, 6]), x([6]), x([6])),
    recomputedStats: ({ g, x }) => g.op1('LayerNormalization', [x([3, 2, 5]), x([2, 5]), x([2, 5])], { axis: 1, epsilon: 1e-5 }),
  },
  Reshape: { plain: ({ g, x }) => g.reshape(x([2, 3, 4]), [4, -1]) },
  Transpose: { plain: ({ g, x }) => g.transpose(x([2, 3, 4, 5]), [0, 2, 3, 1]) },
  Flatten: { plain: ({ g, x }) => g.op1('Flatten', [x([2, 3, 4])], { axis: 2 }) },
  Unsqueeze: { plain: ({ g, x }) => g.op1('Unsqueeze', [x([2, 3]), ints(g, [0, -1])]) },
  Squeeze: { plain: ({ g, x }) => g.op1('Squeeze', [x([2, 1, 3, 1]), ints(g, [1, 3])]) },
  Expand: { plain: ({ g, x }) => g.expand(x([3, 1]), [2, 3, 4]) },
  Tile: { plain: ({ g, x }) => g.op1('Tile', [x([2, 3]), ints(g, [2, 3])]) },
  Slice: {
    steps1: ({ g, x }) => g.slice(x([5, 8]), [1, -3], [4, 8], [0, 1]),
    negativeStep: ({ g, x }) => g.slice(x([5, 8]), [3, 6], [0, -100], [0, 1], [1, -1]),
  },
  Concat: { plain: ({ g, x }) => g.concat([x([2, 3]), x([2, 5]), x([2, 1])], -1) },
  Split: {
    allOutputs: ({ g, x }) => g.op('Split', [x([2, 7]), ints(g, [3, 4])], { axis: 1 }, 2),
    oneOutputUsed: ({ g, x }) => g.op('Split', [x([6, 2]), ints(g, [1, 2, 3])], { axis: 0 }, 3)[1]!,
  },
  Gather: {
    repeatedIndices: ({ g, x }) =>
      g.op1('Gather', [x([10, 3]), g.constant({ dtype: 'int64', shape: [2, 3], data: BigInt64Array.from([0n, 9n, 3n, 3n, 3n, -1n]) })], {
        axis: 0,
      }),
    permutation: ({ g, x }) =>
      g.op1('Gather', [x([2, 5, 3]), g.constant({ dtype: 'int64', shape: [5], data: BigInt64Array.from([3n, 0n, 4n, -4n, 2n]) })], {
        axis: 1,
      }),
    distinctPartial: ({ g, x }) =>
      g.op1('Gather', [x([6, 2]), g.constant({ dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([5n, 0n, 2n, 3n]) })], { axis: 0 }),
    innerAxis: ({ g, x }) =>
      g.op1('Gather', [x([2, 5, 3]), g.constant({ dtype: 'int64', shape: [4], data: BigInt64Array.from([4n, 0n, 4n, 2n]) })], { axis: 1 }),
  },
  DepthToSpace: {
    crd: ({ g, x }) => g.depthToSpace(x([1, 12, 3, 2]), 2),
    dcr: ({ g, x }) => g.op1('DepthToSpace', [x([2, 8, 2, 3])], { blocksize: 2, mode: 'DCR' }),
  },
  SpaceToDepth: { plain: ({ g, x }) => g.op1('SpaceToDepth', [x([1, 2, 4, 6])], { blocksize: 2 }) },
  Pad: {
    reflect: ({ g, x }) => g.pad(x([1, 2, 6, 5]), [0, 0, 2, 1, 0, 0, 2, 3], 'reflect'),
    constant: ({ g, x }) => g.pad(x([2, 3, 4]), [0, 1, 2, 1, 0, 3]),
    // A shift: one side crops.
    negative: ({ g, x }) => g.pad(x([2, 3, 5]), [0, -1, 2, 0, 2, -2]),
  },
  ReduceMean: {
    axes: ({ g, x }) => g.reduceMean(x([2, 3, 4]), [1, -1], false),
    all: ({ g, x }) => g.reduceMean(x([2, 3, 4]), undefined, false),
  },
  ReduceSum: {
    axes: ({ g, x }) => g.reduceSum(x([2, 3, 4]), [0], true),
    all: ({ g, x }) => g.op1('ReduceSum', [x([2, 3, 4])], { keepdims: 0 }),
  },
};

interface Built {
  g: Graph;
  loss: Value;
  checked: Value[];
  feeds: Record<string, HostTensor>;
}

function build(kase: Case): Built {
  const g = new Graph('gradcheck');
  const feeds: Record<string, HostTensor> = {};
  const checked: Value[] = [];
  let seed = 1;
  const x = (shape: number[], kind: Gen = 'any') => {
    const v = g.input(`x${checked.length}`, shape);
    feeds[v.name] = float32Tensor(shape, gen(numel(shape), seed++ * 7919, kind));
    checked.push(v);
    return v;
  };
  const c = (shape: number[], kind: Gen = 'any') => g.constant(float32Tensor(shape, gen(numel(shape), seed++ * 104729, kind)));
  const outs = [kase({ g, x, c })].flat();
  const terms = outs.map((o, i) =>
    g.reduceSum(g.mul(o, g.constant(float32Tensor(o.shape, gen(numel(o.shape), 31337 + i, 'any')))), undefined, false),
  );
  const loss = terms.reduce((a, b) => g.add(a, b));
  return { g, loss, checked, feeds };
}

async function checkCase(kase: Case): Promise<number> {
  const fwd = build(kase);
  fwd.g.output(fwd.loss, 'loss');
  const fwdSession = await ModelSession.create(toOnnx(fwd.g, { params: 'inputs' }));
  const bwd = build(kase);
  const grads = gradients(bwd.g, bwd.loss, bwd.checked);
  bwd.checked.forEach((v) => bwd.g.output(grads.get(v)!, `grad_${v.name}`));
  const bytes = toOnnx(bwd.g, { params: 'inputs' });
  // Every node of the generated graph is a default-domain op from our table.
  const nodes = onnx.ModelProto.decode(bytes).graph?.node ?? [];
  expect(nodes.filter((n) => (n.domain ?? '') !== '' || !Object.hasOwn(OPS, n.opType ?? '')).map((n) => `${n.domain}:${n.opType}`)).toEqual(
    [],
  );
  const bwdSession = await ModelSession.create(bytes);
  const analytic = await bwdSession.run(bwd.feeds);

  const lossAt = async (feeds: Record<string, HostTensor>) => ((await fwdSession.run(feeds)).loss!.data as Float32Array)[0]!;
  let worst = 0;
  for (const v of fwd.checked) {
    const base = fwd.feeds[v.name]!.data as Float32Array;
    const a = analytic[`grad_${v.name}`]!.data as Float32Array;
    expect(a.length).toBe(base.length);
    const n = base.length;
    const picks = n <= SAMPLES ? [...Array(n).keys()] : [...randomData(SAMPLES, n + 17)].map((r) => Math.floor(((r + 1) / 2) * n));
    const numeric: number[] = [];
    for (const i of picks) {
      const perturbed = (delta: number) => {
        const d = base.slice();
        d[i] = d[i]! + delta;
        return { ...fwd.feeds, [v.name]: float32Tensor(v.shape, d) };
      };
      numeric.push(((await lossAt(perturbed(EPS))) - (await lossAt(perturbed(-EPS)))) / (2 * EPS));
    }
    const scale = Math.max(1, ...numeric.map(Math.abs));
    const err = Math.max(...picks.map((i, j) => Math.abs(a[i]! - numeric[j]!))) / scale;
    worst = Math.max(worst, err);
  }
  await fwdSession.release();
  await bwdSession.release();
  return worst;
}

describe('gradient rules agree with finite differences (onnxruntime, float32)', () => {
  const errors: [string, number][] = [];
  afterAll(() => {
    errors.sort((a, b) => b[1] - a[1]);
    console.log(
      `grad-check: ${errors.length} cases, largest scaled errors: ${errors
        .slice(0, 4)
        .map(([k, e]) => `${k} ${e.toExponential(1)}`)
        .join(', ')}`,
    );
  });
  for (const [op, variants] of Object.entries(CASES)) {
    for (const [name, kase] of Object.entries(variants!)) {
      it(`${op} ${name}`, async () => {
        const err = await checkCase(kase);
        errors.push([`${op} ${name}`, err]);
        expect(err, `${op} ${name}: scaled max error ${err}`).toBeLessThanOrEqual(TOL);
      });
    }
  }
});

describe('gradient rule coverage', () => {
  const entries = Object.entries(OPS) as [OpType, (typeof OPS)[OpType]][];
  it('every op with a gradient rule has a checker case', () => {
    const withRule = entries.filter(([, d]) => typeof (d as { grad?: unknown }).grad === 'function').map(([op]) => op);
    expect(withRule.filter((op) => !CASES[op])).toEqual([]);
    expect(Object.keys(CASES).filter((op) => !withRule.includes(op as OpType))).toEqual([]);
  });
  it('lists ops declared non-differentiable and ops without a rule', () => {
    const none = entries.filter(([, d]) => (d as { grad?: unknown }).grad === 'none').map(([op]) => op);
    const missing = entries.filter(([, d]) => (d as { grad?: unknown }).grad === undefined).map(([op]) => op);
    console.log(`non-differentiable: ${none.join(', ')}\nno gradient rule (the walker throws if one is on a path): ${missing.join(', ')}`);
    // Every op is classified; none silently lacks a decision beyond the listed ones.
    expect(none.length + missing.length + Object.keys(CASES).length).toBe(entries.length);
    expect(none).toEqual(expect.arrayContaining(['Greater', 'Less', 'Equal', 'Sign', 'Floor', 'Cast']));
  });
});
