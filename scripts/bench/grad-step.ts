/**
 * Times one training step (forward + backward, no optimizer) of a zoo preset with the paper's
 * distillation loss: our ONNX training graph in onnxruntime-node (CPU EP) against the same
 * step in PyTorch (scripts/bench/grad_step_torch.py, if `python3 -c "import torch"` works),
 * interleaved step by step, medians reported.
 *   [BENCH_THREADS=2] npx tsx scripts/bench/grad-step.ts [preset=edsr-mini] [batch=16] [lrPatch=48] [steps=20]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Graph } from '../../engine/graph/graph';
import { buildTrainingGraph } from '../../engine/graph/autodiff';
import { toOnnx } from '../../engine/graph/onnx';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { distillationLoss } from '../../engine/train/losses';
import { presetConfig } from '../../engine/zoo/presets';
import { resolveArch } from '../../engine/zoo/registry';

const [preset = 'edsr-mini', batchArg = '16', patchArg = '48', stepsArg = '20'] = process.argv.slice(2);
const [batch, patch, steps] = [Number(batchArg), Number(patchArg), Number(stepsArg)];
const python = process.env.PYTHON ?? '/usr/bin/python3';
/** Threads for both runtimes (BENCH_THREADS, default 2 = this machine's cores). */
const threads = Number(process.env.BENCH_THREADS ?? 2);

function rand(shape: number[]): HostTensor {
  return float32Tensor(
    shape,
    Float32Array.from({ length: numel(shape) }, () => Math.random() * 0.1),
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const g = new Graph('bench');
const x = g.input('input', [batch, 3, patch, patch]);
const sr = resolveArch(presetConfig(preset)).build(g, x);
const teacher = g.input('teacher', sr.shape);
const hr = g.input('hr', sr.shape);
buildTrainingGraph(g, distillationLoss(g, sr, teacher, hr));
const bytes = toOnnx(g, { params: 'inputs' });
const session = await ModelSession.create(bytes, { threads });
const feeds: Record<string, HostTensor> = {
  input: rand(x.shape as number[]),
  teacher: rand(sr.shape as number[]),
  hr: rand(sr.shape as number[]),
};
for (const [key, p] of g.params) feeds[key] = rand(p.value.shape as number[]);
console.log(
  `${preset} batch ${batch} LR ${patch}x${patch}, ${threads} threads: ${g.nodes.length} nodes, ONNX ${(bytes.length / 1e6).toFixed(1)} MB`,
);
// The same forward pass and loss without the backward, for the backward/forward ratio.
const gf = new Graph('bench-forward');
const xf = gf.input('input', x.shape);
const srf = resolveArch(presetConfig(preset)).build(gf, xf);
gf.output(distillationLoss(gf, srf, gf.input('teacher', sr.shape), gf.input('hr', sr.shape)), 'loss');
const forward = await ModelSession.create(toOnnx(gf, { params: 'inputs' }), { threads });

/** One persistent PyTorch process per loss variant; each request runs one step and answers its ms. */
async function torchRunner(variant: 'paper' | 'linear'): Promise<(() => Promise<number>) | undefined> {
  const proc = spawn(
    python,
    [new URL('./grad_step_torch.py', import.meta.url).pathname, String(threads), String(batch), String(patch), variant],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const step = async () => {
    proc.stdin!.write('step\n');
    const r = await lines.next();
    if (r.done) throw new Error('torch bench ended');
    return Number(r.value);
  };
  children.push(proc);
  try {
    await step();
    return step;
  } catch {
    console.log(`PyTorch anchor unavailable (${python} -c "import torch" failed)`);
    return undefined;
  }
}
const children: ReturnType<typeof spawn>[] = [];
const runners: [string, () => Promise<number>][] = [];
if (preset === 'edsr-mini') {
  for (const variant of ['paper', 'linear'] as const) {
    const r = await torchRunner(variant);
    if (r)
      runners.push([`PyTorch CPU, MultiLap as ${variant === 'paper' ? "the paper's code (4 pyramids)" : 'ours (1 pyramid of p - t)'}`, r]);
  }
}
await session.run(feeds); // warm-up
await forward.run(feeds);
const ours: number[] = [];
const oursForward: number[] = [];
const theirs = runners.map(() => [] as number[]);
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await session.run(feeds);
  ours.push(performance.now() - t0);
  const t1 = performance.now();
  await forward.run(feeds);
  oursForward.push(performance.now() - t1);
  for (const [j, [, step]] of runners.entries()) theirs[j]!.push(await step());
}
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms/step (${(1000 / median(xs)).toFixed(2)} steps/s) over ${xs.length}`;
console.log(`onnxruntime-node CPU: ${fmt(ours)}; forward + loss alone ${median(oursForward).toFixed(1)} ms`);
runners.forEach(([name], j) => console.log(`${name}: ${fmt(theirs[j]!)}`));
for (const c of children) {
  c.stdin!.end();
  c.kill();
}
await session.release();
await forward.release();
