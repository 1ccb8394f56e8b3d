/**
 * Where a training step's time goes: runs the bench:train step graph (L1 loss, random params)
 * in one ORT session with profiling on and sums ORT's per-node kernel times per step, by op type
 * (forward / backward apart: backward nodes live under the `grad` scope) and by node.
 *   npx tsx scripts/bench/train-profile.ts [--preset edsr-mini] [--batch 16] [--patch 48]
 *     [--threads 1] [--runs 5] [--opt all|extended|basic|disabled] [--config key=value ...]
 *     [--top 25] [--dump optimized.onnx] [--onnx step.onnx]
 * --onnx: profile a step graph saved by another checkout (train-ab.ts --save) instead of this one's.
 * Kernel times exclude ORT's per-node overhead between kernels; the line "step" is the
 * profile's own whole-run time (median), which includes it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { buildTrainGraph } from '../../engine/train/train-graph';
import { presetConfig } from '../../engine/zoo/presets';
import { median } from './timing';
import { resolveArch } from '../../engine/zoo/registry';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'edsr-mini' },
    batch: { type: 'string', default: '16' },
    patch: { type: 'string', default: '48' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    opt: { type: 'string' },
    config: { type: 'string', multiple: true, default: [] },
    top: { type: 'string', default: '25' },
    dump: { type: 'string' },
    onnx: { type: 'string' },
  },
});

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

const config = presetConfig(args.preset);
const [n, p] = [Number(args.batch), Number(args.patch)];
const P = p * resolveArch(config).scale;
const built = buildTrainGraph(config, { type: 'l1' }, { batch: n, patch: p });
const configEntries = Object.fromEntries(args.config.map((kv) => kv.split('=') as [string, string]));
const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'minisr-prof-')), 'step');
const session = await ModelSession.create(args.onnx ? fs.readFileSync(args.onnx) : built.onnx, {
  threads: Number(args.threads),
  ...(args.opt ? { graphOptimization: args.opt as 'all' } : {}),
  configEntries,
  profile: prefix,
  ...(args.dump ? { optimizedModelPath: args.dump } : {}),
});
const rand = (shape: readonly number[], s = 1) =>
  float32Tensor(
    shape,
    Float32Array.from({ length: numel(shape) }, () => (Math.random() - 0.5) * s),
  );
const feeds: Record<string, HostTensor> = { lr: rand([n, 3, p, p]), hr: rand([n, 3, P, P]) };
for (const [k, s] of built.paramShapes) feeds[k] = rand(s, 0.1);
const runs = Number(args.runs);
await session.run(feeds); // warm-up (its events are dropped below)
const cpuMs: number[] = [];
for (let i = 0; i < runs; i++) {
  const c = process.cpuUsage();
  await session.run(feeds);
  const d = process.cpuUsage(c);
  cpuMs.push((d.user + d.system) / 1000);
}
const file = session.endProfiling();
const events = JSON.parse(fs.readFileSync(file, 'utf8')) as ProfileEvent[];
fs.rmSync(path.dirname(file), { recursive: true });

const runTimes = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000);
const measured = runTimes.slice(-runs);
const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
// Drop the warm-up run's kernels: they come first, one per node.
const perRun = kernels.length / (runs + 1);
const steady = kernels.slice(perRun);
const byOp = new Map<string, { fwd: number; bwd: number; count: number }>();
const byNode = new Map<string, { op: string; ms: number }>();
for (const e of steady) {
  const node = e.name.slice(0, -'_kernel_time'.length);
  const op = e.args?.op_name ?? '?';
  const bwd = node.startsWith('grad/') || node.includes('/grad/') || node.startsWith('grad.');
  const o = byOp.get(op) ?? { fwd: 0, bwd: 0, count: 0 };
  if (bwd) o.bwd += e.dur / 1000 / runs;
  else o.fwd += e.dur / 1000 / runs;
  o.count += 1 / runs;
  byOp.set(op, o);
  const nd = byNode.get(node) ?? { op, ms: 0 };
  nd.ms += e.dur / 1000 / runs;
  byNode.set(node, nd);
}
const total = [...byOp.values()].reduce((s, o) => s + o.fwd + o.bwd, 0);
const fwd = [...byOp.values()].reduce((s, o) => s + o.fwd, 0);
console.log(
  `${args.preset} batch ${n} LR ${p}, threads ${args.threads}, opt ${args.opt ?? 'default'}, config ${JSON.stringify(configEntries)}`,
);
console.log(
  `step ${median(measured).toFixed(1)} ms, CPU ${median(cpuMs).toFixed(1)} ms (runs ${measured.map((t) => t.toFixed(0)).join(' ')}); kernels ${total.toFixed(1)} ms/step (forward ${fwd.toFixed(1)}, backward ${(total - fwd).toFixed(1)}); ${Math.round(perRun)} nodes`,
);
console.log('op type                     fwd ms   bwd ms   nodes');
for (const [op, o] of [...byOp].sort((a, b) => b[1].fwd + b[1].bwd - a[1].fwd - a[1].bwd)) {
  console.log(`${op.padEnd(26)} ${o.fwd.toFixed(2).padStart(7)}  ${o.bwd.toFixed(2).padStart(7)}   ${Math.round(o.count)}`);
}
console.log(`top ${args.top} nodes:`);
for (const [node, { op, ms }] of [...byNode].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(args.top)))
  console.log(`${ms.toFixed(2).padStart(7)} ms  ${op.padEnd(18)} ${node}`);
