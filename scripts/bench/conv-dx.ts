/**
 * Single-op timings behind gradConv's dX choice and gradDepthToSpace (EDSRmini's shapes, batch
 * 16), each op followed by a ReduceSum so no large output is copied back; `base*` rows are that
 * ReduceSum alone. Interleaved, medians:
 *   [BENCH_THREADS=1] npx tsx scripts/bench/conv-dx.ts [rounds=21]
 */
import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import type { Value } from '../../engine/graph/value';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { interleave, medianWall } from './timing';

const rounds = Number(process.argv[2] ?? 21);
const threads = Number(process.env.BENCH_THREADS ?? 1);
const rand = (shape: readonly number[]) =>
  float32Tensor(
    shape,
    Float32Array.from({ length: numel(shape) }, () => Math.random() - 0.5),
  );
const conv = (g: Graph, x: Value, w: number[]) => g.op1('Conv', [x, g.input('w', w)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
const convT = (g: Graph, x: Value, w: number[]) =>
  g.op1('ConvTranspose', [x, g.input('w', w)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });

const cases: Record<string, [number[], (g: Graph, x: Value) => Value]> = {
  'base [16,64,48,48]': [[16, 64, 48, 48], (_, x) => x],
  'base [16,16,96,96]': [[16, 16, 96, 96], (_, x) => x],
  'D2S grad: 6-D Transpose': [
    [16, 16, 96, 96],
    (g, x) => g.reshape(g.transpose(g.reshape(x, [16, 16, 48, 2, 48, 2]), [0, 1, 3, 5, 2, 4]), [16, 64, 48, 48]),
  ],
  'D2S grad: S2D + Transpose': [
    [16, 16, 96, 96],
    (g, x) => g.transpose(g.reshape(g.op1('SpaceToDepth', [x], { blocksize: 2 }), [16, 4, 16, 2304]), [0, 2, 1, 3]),
  ],
  'dX 64->16: flipped Conv': [[16, 64, 48, 48], (g, x) => conv(g, x, [16, 64, 3, 3])],
  'dX 64->16: ConvTranspose': [[16, 64, 48, 48], (g, x) => convT(g, x, [64, 16, 3, 3])],
  'dX 16->16: flipped Conv': [[16, 16, 48, 48], (g, x) => conv(g, x, [16, 16, 3, 3])],
  'dX 16->16: ConvTranspose': [[16, 16, 48, 48], (g, x) => convT(g, x, [16, 16, 3, 3])],
  'dX 3->16 96^2: flipped Conv': [[16, 3, 96, 96], (g, x) => conv(g, x, [16, 3, 3, 3])],
  'dX 3->16 96^2: ConvTranspose': [[16, 3, 96, 96], (g, x) => convT(g, x, [3, 16, 3, 3])],
};

const sessions: [string, ModelSession, Record<string, HostTensor>][] = [];
for (const [name, [shape, f]] of Object.entries(cases)) {
  const g = new Graph('op');
  g.output(g.reduceSum(g.reshape(f(g, g.input('x', shape)), [-1]), [0], false), 'y');
  const feeds: Record<string, HostTensor> = {};
  for (const v of g.inputs) feeds[v.name] = rand(v.shape);
  sessions.push([name, await ModelSession.create(toOnnx(g, { params: 'inputs' }), { threads }), feeds]);
}
for (const [, s, f] of sessions) await s.run(f);
const times = await interleave(
  sessions.map(([k, s, f]) => [k, () => s.run(f)] as const),
  rounds,
);
console.log(`${threads} thread(s), median of ${rounds} (ms, each incl. its ReduceSum):`);
for (const [k, v] of times) console.log(`  ${k.padEnd(30)} ${medianWall(v).toFixed(2)}`);
