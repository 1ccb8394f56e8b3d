/**
 * The measurements behind the autodiff's design choices, each as interleaved runs of the
 * alternatives in onnxruntime-node (CPU EP), medians printed:
 *   [BENCH_THREADS=2] npx tsx scripts/bench/grad-variants.ts [rounds=15]
 * - LayerNormalization: the fused op (saved Mean/InvStdDev, composed gradient) vs a decomposed LN.
 * - SwinIR bias-table Gather backward: ScatterElements(add) vs a constant one-hot MatMul.
 * - Conv weight gradient (16->16 3x3, batch 16, 48x48): per-tap MatMuls over shifted slices
 *   (an early gradConv form), unfold (depthwise one-hot Conv) + MatMul, slices + Concat + MatMul,
 *   Conv over batch/channel-transposed tensors. gradConv's current form and its alternatives:
 *   scripts/bench/conv-wgrad.ts.
 * - MultiLap + 0.1 L1 (batch 16, 96x96) forward + backward: ours (one pyramid of p - t,
 *   separable matrices) vs the paper's form (four pyramids) vs Pad + depthwise Conv + AveragePool.
 */
import { Graph } from '../../engine/graph/graph';
import { gradients } from '../../engine/graph/autodiff';
import { toOnnx } from '../../engine/graph/onnx';
import type { Value } from '../../engine/graph/value';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { distillationLoss, gaussianBlur, l1Loss, laplacianPyramid } from '../../engine/train/losses';

const rounds = Number(process.argv[2] ?? 15);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const rand = (shape: readonly number[]) =>
  float32Tensor(
    shape,
    Float32Array.from({ length: numel(shape) }, () => Math.random() - 0.5),
  );
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
type Timed = () => Promise<number>;

/** A session computing `outputs(g)`; inputs and params are fed random data. */
async function timed(build: (g: Graph) => Value[]): Promise<Timed> {
  const g = new Graph('variant');
  build(g).forEach((v, i) => g.output(v, `out${i}`));
  const session = await ModelSession.create(toOnnx(g, { params: 'inputs' }), { threads });
  const feeds: Record<string, HostTensor> = {};
  for (const v of g.inputs) feeds[v.name] = rand(v.shape);
  for (const [k, p] of g.params) feeds[k] = rand(p.value.shape);
  return async () => {
    const t = performance.now();
    await session.run(feeds);
    return performance.now() - t;
  };
}

/** Forward + backward of sum(f(inputs) * R) w.r.t. `wrt`. */
function withGrads(g: Graph, y: Value, wrt: Value[]): Value[] {
  const loss = g.reduceSum(g.mul(y, g.constant(rand(y.shape))), undefined, false);
  const grads = gradients(g, loss, wrt);
  return [loss, ...wrt.map((w) => grads.get(w)!)];
}

async function compare(title: string, variants: Record<string, Timed>): Promise<void> {
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as number[]]));
  for (const run of Object.values(variants)) await run();
  for (let r = 0; r < rounds; r++) for (const [k, run] of Object.entries(variants)) times[k]!.push(await run());
  console.log(
    `${title}: ${Object.entries(times)
      .map(([k, v]) => `${k} ${median(v).toFixed(2)} ms`)
      .join(', ')}`,
  );
}

// LayerNorm over [16 x 64 x 64 tokens, 24 channels] (SwinIRmini at batch 16, LR 64).
const T = [16 * 64 * 64, 24];
await compare('LayerNorm fwd+bwd [65536, 24]', {
  fused: await timed((g) => {
    const [x, w, b] = [g.input('x', T), g.param('w', [24]), g.param('b', [24])];
    return withGrads(g, g.layerNorm(x, w, b), [x, w, b]);
  }),
  decomposed: await timed((g) => {
    const [x, w, b] = [g.input('x', T), g.param('w', [24]), g.param('b', [24])];
    const c = g.sub(x, g.reduceMean(x, [-1], true));
    const y = g.add(g.mul(g.div(c, g.sqrt(g.add(g.reduceMean(g.mul(c, c), [-1], true), g.scalar(1e-5)))), w), b);
    return withGrads(g, y, [x, w, b]);
  }),
});

// A [225, 6] bias table gathered by 64 x 64 relative-position indices (window 8).
const index = BigInt64Array.from({ length: 4096 }, (_, i) => {
  const [a, b] = [i >> 6, i & 63];
  return BigInt(((a >> 3) - (b >> 3) + 7) * 15 + ((a & 7) - (b & 7) + 7));
});
await compare('bias-table Gather fwd+bwd', {
  scatterElementsAdd: await timed((g) => {
    const t = g.param('t', [225, 6]);
    return withGrads(g, g.op1('Gather', [t, g.constant({ dtype: 'int64', shape: [4096], data: index })], { axis: 0 }), [t]);
  }),
  oneHotMatMul: await timed((g) => {
    const t = g.param('t', [225, 6]);
    const oneHot = new Float32Array(4096 * 225);
    index.forEach((v, i) => (oneHot[i * 225 + Number(v)] = 1));
    return withGrads(g, g.matmul(g.constant({ dtype: 'float32', shape: [4096, 225], data: oneHot }), t), [t]);
  }),
});

// Conv weight gradient alone, from given x and dY.
const [N, C, H] = [16, 16, 48];
const P = H * H;
const dwVariant = (f: (g: Graph, x: Value, dy: Value) => Value) =>
  timed((g) => [f(g, g.input('x', [N, C, H, H]), g.input('dy', [N, C, H, H]))]);
await compare('Conv dW 16->16 3x3 b16 48x48', {
  perTapSlices: await dwVariant((g, x, dy) => {
    // An early gradConv form.
    const xp = g.pad(x, [0, 0, 1, 1, 0, 0, 1, 1]);
    const d3 = g.reshape(dy, [N, C, P]);
    const taps: Value[] = [];
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        const xj = g.reshape(g.slice(xp, [a, b], [a + H, b + H], [2, 3]), [N, C, P]);
        taps.push(g.reduceSum(g.matmul(d3, g.transpose(xj, [0, 2, 1])), [0], true));
      }
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, C, C]), [2, 3, 0, 1]);
  }),
  unfoldMatMul: await dwVariant((g, x, dy) => {
    const oneHot = new Float32Array(C * 81);
    for (let c = 0; c < C; c++) for (let j = 0; j < 9; j++) oneHot[(c * 9 + j) * 9 + j] = 1;
    const kernel = g.constant({ dtype: 'float32', shape: [C * 9, 1, 3, 3], data: oneHot });
    const u = g.reshape(g.op1('Conv', [x, kernel], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: C }), [N, C * 9, P]);
    const wT = g.reduceSum(g.matmul(u, g.transpose(g.reshape(dy, [N, C, P]), [0, 2, 1])), [0], false);
    return g.reshape(g.transpose(wT, [1, 0]), [C, C, 3, 3]);
  }),
  sliceConcatMatMul: await dwVariant((g, x, dy) => {
    const xp = g.pad(x, [0, 0, 1, 1, 0, 0, 1, 1]);
    const taps: Value[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) taps.push(g.reshape(g.slice(xp, [a, b], [a + H, b + H], [2, 3]), [N, 1, C, P]));
    const u = g.reshape(g.concat(taps, 1), [N, 9 * C, P]); // channel j*C + ci
    const w = g.reduceSum(g.matmul(u, g.transpose(g.reshape(dy, [N, C, P]), [0, 2, 1])), [0], false); // [9*Ci, Co]
    return g.transpose(g.reshape(w, [3, 3, C, C]), [3, 2, 0, 1]);
  }),
  convOverTransposed: await dwVariant((g, x, dy) => {
    const w = g.op1('Conv', [g.transpose(x, [1, 0, 2, 3]), g.transpose(dy, [1, 0, 2, 3])], { kernel_shape: [H, H], pads: [1, 1, 1, 1] });
    return g.transpose(w, [1, 0, 2, 3]);
  }),
});

// The distillation loss alone, w.r.t. the prediction.
const S = [16, 3, 96, 96];
const lossVariant = (f: (g: Graph, p: Value, t: Value, h: Value) => Value) =>
  timed((g) => {
    const p = g.input('p', S);
    const loss = f(g, p, g.input('t', S), g.input('h', S));
    return [loss, gradients(g, loss, [p]).get(p)!];
  });
const sumLevels = (g: Graph, pa: Value[], pb: Value[]) =>
  pa.map((a, i) => g.mul(l1Loss(g, a, pb[i]!), g.scalar(2 ** i))).reduce((s, v) => g.add(s, v));
/** The paper's code read literally: Pad(reflect) + depthwise 5x5 Conv, AveragePool, zero insertion by Pad. */
function convBlur(g: Graph, v: Value, gain = 1): Value {
  const k = [1, 4, 6, 4, 1];
  const data = new Float32Array(75).map((_, i) => (gain * k[Math.floor((i % 25) / 5)]! * k[i % 5]!) / 256);
  return g.conv(g.pad(v, [0, 0, 2, 2, 0, 0, 2, 2], 'reflect'), g.constant({ dtype: 'float32', shape: [3, 1, 5, 5], data }), undefined, {
    pads: [0, 0, 0, 0],
    group: 3,
  });
}
function convPyramid(g: Graph, x: Value): Value[] {
  const blur = (v: Value, gain: number) => convBlur(g, v, gain);
  const out: Value[] = [];
  let cur = x;
  for (let i = 0; i < 4; i++) {
    const red = g.op1('AveragePool', [blur(cur, 1)], { kernel_shape: [2, 2], strides: [2, 2] });
    const [n, c, h, w] = red.shape as [number, number, number, number];
    const spread = g.reshape(g.pad(g.reshape(red, [n, c, h, 1, w, 1]), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]), [n, c, 2 * h, 2 * w]);
    out.push(g.sub(cur, blur(spread, 4)));
    cur = red;
  }
  return [...out, cur];
}
await compare('MultiLap + 0.1 L1 fwd+bwd b16 96x96', {
  ours: await lossVariant((g, p, t, h) => distillationLoss(g, p, t, h)),
  paperFormMatrices: await lossVariant((g, p, t, h) => {
    const lap = (a: Value, b: Value) => sumLevels(g, laplacianPyramid(g, a), laplacianPyramid(g, b));
    return g.add(g.add(lap(g.sub(p, gaussianBlur(g, p)), g.sub(t, gaussianBlur(g, t))), lap(p, t)), g.mul(l1Loss(g, p, h), g.scalar(0.1)));
  }),
  paperFormConvs: await lossVariant((g, p, t, h) => {
    const lap = (a: Value, b: Value) => sumLevels(g, convPyramid(g, a), convPyramid(g, b));
    return g.add(g.add(lap(g.sub(p, convBlur(g, p)), g.sub(t, convBlur(g, t))), lap(p, t)), g.mul(l1Loss(g, p, h), g.scalar(0.1)));
  }),
});
