/**
 * Conv weight-gradient variants alone (3x3, pads 1, stride 1), from given x and dY, interleaved
 * in onnxruntime-node (CPU EP), medians printed with each variant's max deviation from the first:
 *   [BENCH_THREADS=1] npx tsx scripts/bench/conv-wgrad.ts [rounds=15] [N Ci Co H]
 * - slices: the former gradConv form: x padded to (H+2)^2, kw column slices of it; dY padded
 *   row-wise at kh offsets of a flattened (H+2) x W grid, concatenated; one MatMul per column shift.
 * - shifts (gradConv now, Ci and Co within 4x): dY shifted by rows (Pad on the flattened grid,
 *   one side negative) and concatenated, x shifted by columns; one MatMul per column shift.
 * - shiftsNoConcat: the same shifts, one MatMul per tap. colsOnDy: rows on x, columns on dY.
 * - xOnly / dyOnly (gradConv now when one side is 4+ times smaller): all kh*kw shifts on one
 *   tensor, concatenated, one MatMul. *2d: the same on channel-major copies, 2-D GEMMs.
 * - matmulsOnly / gemms2d: the GEMMs alone, batched or 2-D, without the shifted copies (wrong
 *   results; bounds).
 */
import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import type { Value } from '../../engine/graph/value';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { interleave, medianWall } from './timing';

const rounds = Number(process.argv[2] ?? 15);
const [N, CI, CO, H] = (process.argv.length > 6 ? process.argv.slice(3, 7) : ['16', '16', '16', '48']).map(Number) as [
  number,
  number,
  number,
  number,
];
const threads = Number(process.env.BENCH_THREADS ?? 1);
const rand = (shape: readonly number[]) =>
  float32Tensor(
    shape,
    Float32Array.from({ length: numel(shape) }, () => Math.random() - 0.5),
  );
const feeds: Record<string, HostTensor> = { x: rand([N, CI, H, H]), dy: rand([N, CO, H, H]) };
const L = H * H;

/** Shifts v [N, C, H, W] by s along `axis` (2 or 3), zero-filled: out[i] = v[i - s]. */
const shift = (g: Graph, v: Value, axis: 2 | 3, s: number): Value => {
  if (s === 0) return v;
  const [n, c, h, w] = v.shape as [number, number, number, number];
  if (axis === 2) return g.reshape(g.pad(g.reshape(v, [n, c, h * w]), [0, 0, s * w, 0, 0, -s * w]), [n, c, h, w]);
  const p = [0, 0, 0, 0, 0, 0, 0, 0];
  p[axis] = s;
  p[axis + 4] = -s;
  return g.pad(v, p);
};
const variants: Record<string, (g: Graph, x: Value, dy: Value) => Value> = {
  slices: (g, x, dy) => {
    const xp = g.pad(x, [0, 0, 1, 1, 0, 0, 1, 1]);
    const hp = H + 2;
    const df = g.reshape(dy, [N, CO, L]);
    const rows = [0, 1, 2].map((a) => g.pad(df, [0, 0, a * H, 0, 0, (hp - H - a) * H]));
    const dRows = g.concat(rows, 1);
    const taps = [0, 1, 2].map((b) =>
      g.reduceSum(g.matmul(dRows, g.transpose(g.reshape(g.slice(xp, [b], [b + H], [3]), [N, CI, hp * H]), [0, 2, 1])), [0], false),
    );
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CO, CI]), [2, 3, 1, 0]);
  },
  shifts: (g, x, dy) => {
    // dW[a,b] = sum_ij D_a[i,j] X_b[i,j], D_a = dY shifted by a-1 rows, X_b[i,j] = x[i, j+b-1].
    const dRows = g.reshape(
      g.concat(
        [0, 1, 2].map((a) => shift(g, dy, 2, a - 1)),
        1,
      ),
      [N, 3 * CO, L],
    );
    const taps = [0, 1, 2].map((b) =>
      g.reduceSum(g.matmul(dRows, g.transpose(g.reshape(shift(g, x, 3, 1 - b), [N, CI, L]), [0, 2, 1])), [0], false),
    );
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CO, CI]), [2, 3, 1, 0]);
  },
  shifts2d: (g, x, dy) => {
    // As `shifts` on channel-major copies ([C, N, H, W]): 2-D GEMMs over N*H*W, no batch ReduceSum.
    const xc = g.transpose(x, [1, 0, 2, 3]);
    const dc = g.transpose(dy, [1, 0, 2, 3]);
    const dRows = g.reshape(
      g.concat(
        [0, 1, 2].map((a) => shift(g, dc, 2, a - 1)),
        0,
      ),
      [3 * CO, N * L],
    );
    const taps = [0, 1, 2].map((b) => g.matmul(dRows, g.transpose(g.reshape(shift(g, xc, 3, 1 - b), [CI, N * L]), [1, 0])));
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CO, CI]), [2, 3, 1, 0]);
  },
  xOnly2d: (g, x, dy) => {
    const xc = g.transpose(x, [1, 0, 2, 3]);
    const dc = g.reshape(g.transpose(dy, [1, 0, 2, 3]), [CO, N * L]);
    const xs = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => shift(g, shift(g, xc, 2, 1 - a), 3, 1 - b)));
    const w = g.matmul(dc, g.transpose(g.reshape(g.concat(xs, 0), [9 * CI, N * L]), [1, 0])); // [Co, (a, b, ci)]
    return g.transpose(g.reshape(w, [CO, 3, 3, CI]), [0, 3, 1, 2]);
  },
  dyOnly2d: (g, x, dy) => {
    const xc = g.reshape(g.transpose(x, [1, 0, 2, 3]), [CI, N * L]);
    const dc = g.transpose(dy, [1, 0, 2, 3]);
    const ds = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => shift(g, shift(g, dc, 2, a - 1), 3, b - 1)));
    const w = g.matmul(g.reshape(g.concat(ds, 0), [9 * CO, N * L]), g.transpose(xc, [1, 0]));
    return g.transpose(g.reshape(w, [3, 3, CO, CI]), [2, 3, 0, 1]);
  },
  xOnly: (g, x, dy) => {
    const xs = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => shift(g, shift(g, x, 2, 1 - a), 3, 1 - b)));
    const w = g.reduceSum(
      g.matmul(g.reshape(dy, [N, CO, L]), g.transpose(g.reshape(g.concat(xs, 1), [N, 9 * CI, L]), [0, 2, 1])),
      [0],
      false,
    ); // [Co, (a, b, ci)]
    return g.transpose(g.reshape(w, [CO, 3, 3, CI]), [0, 3, 1, 2]);
  },

  colsOnDy: (g, x, dy) => {
    const xRows = g.reshape(
      g.concat(
        [0, 1, 2].map((a) => shift(g, x, 2, 1 - a)),
        1,
      ),
      [N, 3 * CI, L],
    );
    const taps = [0, 1, 2].map((b) =>
      g.reduceSum(g.matmul(xRows, g.transpose(g.reshape(shift(g, dy, 3, b - 1), [N, CO, L]), [0, 2, 1])), [0], false),
    ); // [(a, ci), co]
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CI, CO]), [3, 2, 1, 0]);
  },

  shiftsNoConcat: (g, x, dy) => {
    const ds = [0, 1, 2].map((a) => g.reshape(shift(g, dy, 2, a - 1), [N, CO, L]));
    const xs = [0, 1, 2].map((b) => g.transpose(g.reshape(shift(g, x, 3, 1 - b), [N, CI, L]), [0, 2, 1]));
    const taps = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => g.reduceSum(g.matmul(ds[a]!, xs[b]!), [0], false)));
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CO, CI]), [2, 3, 0, 1]);
  },
  matmulsOnly: (g, x, dy) => {
    // Lower bound: the three GEMMs of `shifts` without any shifted copy (wrong result).
    const dRows = g.reshape(g.concat([dy, dy, dy], 1), [N, 3 * CO, L]);
    const xt = g.transpose(g.reshape(x, [N, CI, L]), [0, 2, 1]);
    const taps = [0, 1, 2].map(() => g.reduceSum(g.matmul(dRows, xt), [0], false));
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CO, CI]), [2, 3, 1, 0]);
  },
  gemms2d: (g, x, dy) => {
    // Bound for the 2-D form: matmulsOnly's three GEMMs as [3Co, N*H*W] x [N*H*W, Ci] on
    // channel-major copies (the two transposes included), no shifted copies (wrong result).
    const dc = g.reshape(g.transpose(dy, [1, 0, 2, 3]), [CO, N * L]);
    const dRows = g.concat([dc, dc, dc], 0);
    const xt = g.transpose(g.reshape(g.transpose(x, [1, 0, 2, 3]), [CI, N * L]), [1, 0]);
    const taps = [0, 1, 2].map(() => g.matmul(dRows, xt));
    return g.transpose(g.reshape(g.concat(taps, 0), [3, 3, CO, CI]), [2, 3, 1, 0]);
  },

  dyOnly: (g, x, dy) => {
    const ds = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => shift(g, shift(g, dy, 2, a - 1), 3, b - 1)));
    const w = g.reduceSum(
      g.matmul(g.reshape(g.concat(ds, 1), [N, 9 * CO, L]), g.transpose(g.reshape(x, [N, CI, L]), [0, 2, 1])),
      [0],
      false,
    );
    return g.transpose(g.reshape(w, [3, 3, CO, CI]), [2, 3, 0, 1]);
  },
};

const sessions: [string, ModelSession][] = [];
for (const [name, f] of Object.entries(variants)) {
  const g = new Graph(name);
  g.output(f(g, g.input('x', [N, CI, H, H]), g.input('dy', [N, CO, H, H])), 'dw');
  sessions.push([name, await ModelSession.create(toOnnx(g, { params: 'inputs' }), { threads })]);
}
const ref = (await sessions[0]![1].run(feeds)).dw!.data as Float32Array;
const dev = new Map<string, number>();
for (const [k, s] of sessions) {
  const out = (await s.run(feeds)).dw!.data as Float32Array;
  dev.set(
    k,
    out.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0),
  );
}
const times = await interleave(
  sessions.map(([k, s]) => [k, () => s.run(feeds)] as const),
  rounds,
);
console.log(`Conv dW ${CI}->${CO} 3x3, batch ${N}, ${H}x${H}, ${threads} thread(s), median of ${rounds}:`);
for (const [k, v] of times) console.log(`  ${k.padEnd(16)} ${medianWall(v).toFixed(2)} ms  (max |diff| ${dev.get(k)!.toExponential(1)})`);
