/**
 * `npm run bench:train`: steps/s of one full training step as our trainer takes it (ONNX
 * forward + L1 loss + backward in onnxruntime-node's CPU EP, then Adam and the EMA update on
 * the host) for EDSRmini (batch 16, LR patch 48) and SwinIRmini (batch 16, LR patch 64), and
 * side by side the same step in PyTorch (scripts/bench/train_torch.py through Debian's
 * /usr/bin/python3 with python3-torch; skipped with a note when torch is missing). Steps are
 * interleaved ours/PyTorch and medians reported, since this machine is shared and noisy; beside
 * wall time each side's process CPU time per step, which other jobs on the machine disturb far
 * less (with 1 thread and no spinning it is the step's own work; with more threads it includes
 * time the runtimes' worker threads spend waiting or spinning).
 *   npm run bench:train -- [--runs 5] [--only edsr-mini] [--threads 0] [--json]
 *                          [--ep webgpu] [--torch-device cuda] [--ort-verbose] [--spin] [--parallel]
 * On a GPU machine `--ep webgpu` runs our step there (after checking its loss and gradients
 * against the CPU EP's for the same batch), `--torch-device cuda` moves the anchor to the GPU,
 * and `--ort-verbose` turns on ORT's verbose log, whose node-placement lines name every node
 * that falls back to the CPU. `--spin` lets ORT's idle worker threads spin (off by default in
 * our sessions; see engine/runtime/session.ts); `--parallel` lets ORT run independent branches of
 * the graph (e.g. a convolution's input and weight gradients) at the same time.
 * Before timing it prints each step's nodes after ORT's optimisations (a kernel dispatch each
 * on a GPU) and its host<->device MB (engine/train/step-metrics.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Adam, ADAM_DEFAULTS, copyParams, Ema } from '../../engine/train/optim';
import { initParams } from '../../engine/train/init';
import { Rng } from '../../engine/train/rng';
import { optimizedNodeCount, stepTransfer } from '../../engine/train/step-metrics';
import { buildTrainGraph, OnnxTrainStep } from '../../engine/train/train-graph';
import { describeEpReport, type EpChoice } from '../../engine/runtime/select';
import { presetConfig } from '../../engine/zoo/presets';
import { median, timeOnce } from './timing';
import { resolveArch } from '../../engine/zoo/registry';

const CASES = [
  { preset: 'edsr-mini', batch: 16, patch: 48 },
  { preset: 'swinir-mini', batch: 16, patch: 64 },
] as const;

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    threads: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
    ep: { type: 'string', default: 'cpu' },
    'torch-device': { type: 'string', default: 'cpu' },
    'ort-verbose': { type: 'boolean', default: false },
    spin: { type: 'boolean', default: false },
    parallel: { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const threads = Number(args.threads);
const ep = args.ep as EpChoice;
const torchDevice = args['torch-device'];
const python = process.env.PYTHON ?? '/usr/bin/python3';
/** max |a - b| over max |b|: the goldens' measure. */
function maxRelErr(a: Float32Array, b: Float32Array): number {
  let [d, m] = [0, 0];
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m > 0 ? d / m : d;
}
const log = (s: string) => !args.json && console.log(s);

/** A persistent PyTorch process for one case: each stdin line runs one step and answers its ms. */
interface StepTime {
  wallMs: number;
  cpuMs: number;
}

async function torchRunner(
  preset: string,
  batch: number,
  patch: number,
): Promise<{ step: () => Promise<StepTime>; proc: ChildProcess } | string> {
  const torchThreads = threads > 0 ? threads : os.cpus().length;
  const proc = spawn(
    python,
    [new URL('./train_torch.py', import.meta.url).pathname, String(torchThreads), preset, String(batch), String(patch), torchDevice],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const step = async () => {
    proc.stdin!.write('step\n');
    const r = await lines.next();
    if (r.done) throw new Error(`PyTorch bench ended: ${err.trim().split('\n').pop()}`);
    const [wall, , cpu] = r.value.split(' ');
    return { wallMs: Number(wall), cpuMs: Number(cpu) };
  };
  try {
    await step(); // warm-up
    return { step, proc };
  } catch (e) {
    proc.kill();
    return `PyTorch unavailable (${(e as Error).message}); install it with: apt-get install -y python3-torch`;
  }
}

const results = [];
log(
  `training-step bench: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), onnxruntime-node EP ${ep} (CPU threads ${threads || 'all'}${args.spin ? ', spinning' : ''}${args.parallel ? ', parallel branches' : ''}), PyTorch on ${torchDevice}, median of ${runs} interleaved steps after 1 warm-up`,
);
for (const c of CASES) {
  if (args.only && !args.only.split(',').includes(c.preset)) continue;
  const config = presetConfig(c.preset);
  const scale = resolveArch(config).scale;
  const t0 = performance.now();
  const step = await OnnxTrainStep.create(
    config,
    { type: 'l1' },
    { batch: c.batch, patch: c.patch },
    {
      threads,
      ep,
      allowSpinning: args.spin,
      ...(args.parallel ? { executionMode: 'parallel' as const } : {}),
      ...(args['ort-verbose'] ? { logSeverity: 0 as const } : {}),
    },
  );
  const buildSec = (performance.now() - t0) / 1000;
  if (ep !== 'cpu') log(`${c.preset}: ${describeEpReport(step.epReport).join('; ')}`);
  // dispatches and host<->device traffic per step, the same graph rebuilt for the optimised-model dump
  const built = buildTrainGraph(config, { type: 'l1' }, { batch: c.batch, patch: c.patch }, step.target);
  const nodes = await optimizedNodeCount(built.onnx, step.ep);
  const io = stepTransfer(built, { batch: c.batch, patch: c.patch }, scale);
  log(
    `${c.preset} (${step.target} layout on ${step.ep}): ${nodes.after} nodes/step after ORT's optimisations (${nodes.before} built); host->device ${(io.upBytes / 1e6).toFixed(2)} MB/step, device->host ${(io.downBytes / 1e6).toFixed(2)} MB/step`,
  );
  const learnable = new Map(step.paramKeys.map((k) => [k, step.paramShapes.get(k)!]));
  const params = initParams(config.family, learnable, 0);
  const adam = new Adam(ADAM_DEFAULTS, params);
  const ema = new Ema(0.999, params, copyParams(params));
  const rng = Rng.seeded(0);
  const P = c.patch * scale;
  const batch = {
    step: 0,
    lr: Float32Array.from({ length: c.batch * 3 * c.patch * c.patch }, () => rng.next()),
    hr: Float32Array.from({ length: c.batch * 3 * P * P }, () => rng.next()),
  };
  const ours = (): Promise<StepTime> =>
    timeOnce(async () => {
      const { grads } = await step.run(params, batch);
      adam.step(params, grads, 2e-4);
      ema.update(params);
    });
  if (step.ep !== 'cpu') {
    // The same step on the CPU EP: the GPU provider must give the same loss and gradients.
    const cpu = await OnnxTrainStep.create(config, { type: 'l1' }, { batch: c.batch, patch: c.patch }, { threads });
    const [a, b] = [await step.run(params, batch), await cpu.run(params, batch)];
    await cpu.release();
    let worst = 0;
    for (const k of step.paramKeys) worst = Math.max(worst, maxRelErr(a.grads.get(k)!, b.grads.get(k)!));
    log(
      `${c.preset} on ${step.ep} vs cpu: loss ${a.loss.toPrecision(7)} vs ${b.loss.toPrecision(7)}, worst gradient error ${worst.toExponential(2)} (max |diff| / max |cpu| per tensor)`,
    );
  }
  await ours(); // warm-up
  const torch = await torchRunner(c.preset, c.batch, c.patch);
  const oursT: StepTime[] = [];
  const torchT: StepTime[] = [];
  for (let i = 0; i < runs; i++) {
    oursT.push(await ours());
    if (typeof torch !== 'string') torchT.push(await torch.step());
  }
  const [oursMs, torchMs] = [oursT.map((t) => t.wallMs), torchT.map((t) => t.wallMs)];
  const [oursCpu, torchCpu] = [oursT.map((t) => t.cpuMs), torchT.map((t) => t.cpuMs)];
  if (typeof torch !== 'string') torch.proc.kill();
  await step.release();
  const r = {
    preset: c.preset,
    ep: step.ep,
    torchDevice,
    batch: c.batch,
    lrPatch: c.patch,
    graphBuildAndSessionSec: buildSec,
    nodesPerStep: nodes.after,
    nodesBuilt: nodes.before,
    hostToDeviceMB: io.upBytes / 1e6,
    deviceToHostMB: io.downBytes / 1e6,
    oursMs: median(oursMs),
    oursStepsPerSec: 1000 / median(oursMs),
    torchMs: torchMs.length ? median(torchMs) : undefined,
    torchStepsPerSec: torchMs.length ? 1000 / median(torchMs) : undefined,
    oursCpuMs: median(oursCpu),
    torchCpuMs: torchCpu.length ? median(torchCpu) : undefined,
    samples: { ours: oursMs.map(Math.round), torch: torchMs.map(Math.round) },
  };
  results.push(r);
  log(
    `${c.preset} batch ${c.batch}, LR patch ${c.patch}: ours ${r.oursMs.toFixed(0)} ms (${r.oursStepsPerSec.toFixed(2)} steps/s)` +
      (r.torchMs !== undefined
        ? `, PyTorch ${r.torchMs.toFixed(0)} ms (${r.torchStepsPerSec!.toFixed(2)} steps/s), ours/PyTorch time ${(r.oursMs / r.torchMs).toFixed(2)}`
        : `; ${torch as string}`) +
      `; CPU ms/step ours ${r.oursCpuMs.toFixed(0)}` +
      (r.torchCpuMs !== undefined ? `, PyTorch ${r.torchCpuMs.toFixed(0)} (ratio ${(r.oursCpuMs / r.torchCpuMs).toFixed(2)})` : '') +
      `  [ours ${r.samples.ours.join(' ')} | torch ${r.samples.torch.join(' ')}]`,
  );
}
if (args.json) console.log(JSON.stringify(results, null, 2));
