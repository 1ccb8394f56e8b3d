/**
 * `npm run bench:train`: steps/s of one full training step as our trainer takes it (ONNX
 * forward + L1 loss + backward in onnxruntime-node's CPU EP, then Adam and the EMA update)
 * for EDSRmini (batch 16, LR patch 48) and SwinIRmini (batch 16, LR patch 64), and side by side the same step in PyTorch (scripts/bench/train_torch.py through Debian's
 * /usr/bin/python3 with python3-torch; skipped with a note when torch is missing). Steps are
 * interleaved ours/PyTorch and medians reported, since this machine is shared and noisy; beside
 * wall time each side's process CPU time per step, which other jobs on the machine disturb far
 * less (with 1 thread and no spinning it is the step's own work; with more threads it includes
 * time the runtimes' worker threads spend waiting or spinning).
 *   npm run bench:train -- [--runs 5] [--only edsr-mini] [--threads 0] [--json]
 *                          [--ep webgpu] [--torch-device cuda] [--ort-verbose] [--spin] [--parallel]
 *                          [--update host,graph,graph-conv] [--batch N --patch P]
 * The update paths run interleaved (`--update` picks): `host` as the trainer has always run
 * (gradients come back and Adam and the EMA run on the host), `graph` (engine/train/
 * update-graph.ts: Adam and the EMA inside the step graph, the state kept on the device between
 * steps by resident-step.ts) and `graph-conv` (the same with each conv's weight gradient as one
 * Conv: engine/graph/graph.ts `ConvWeightGrad`). `--batch`/`--patch` shrink the shapes for a dry run (lavapipe).
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
import { Adam, ADAM_DEFAULTS, adamScalars, copyParams, Ema } from '../../engine/train/optim';
import { ResidentTrainStep } from '../../engine/train/resident-step';
import { buildUpdateGraph } from '../../engine/train/update-graph';
import { initParams } from '../../engine/train/init';
import { Rng } from '../../engine/train/rng';
import { optimizedNodeCount, residentStepTransfer, stepTransfer, type StepTransfer } from '../../engine/train/step-metrics';
import { buildTrainGraph, OnnxTrainStep } from '../../engine/train/train-graph';
import { describeEpReport, type EpChoice } from '../../engine/runtime/select';
import { presetConfig } from '../../engine/zoo/presets';
import { median, timeOnce } from './timing';
import { resolveArch } from '../../engine/zoo/registry';

const CASES: { preset: string; batch: number; patch: number }[] = [
  { preset: 'edsr-mini', batch: 16, patch: 48 },
  { preset: 'swinir-mini', batch: 16, patch: 64 },
];

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
    update: { type: 'string', default: 'host,graph,graph-conv' },
    batch: { type: 'string' },
    patch: { type: 'string' },
  },
});
const runs = Number(args.runs);
const threads = Number(args.threads);
const ep = args.ep as EpChoice;
const torchDevice = args['torch-device'];
const python = process.env.PYTHON ?? '/usr/bin/python3';
type UpdatePath = 'host' | 'graph' | 'graph-conv';
const PATH_NAMES: Record<UpdatePath, string> = {
  host: 'host update',
  graph: 'in-graph update',
  'graph-conv': 'in-graph update, conv weight grads as Conv',
};
const paths = args.update.split(',').map((p) => {
  if (!(p in PATH_NAMES)) throw new RangeError(`--update takes a list of ${Object.keys(PATH_NAMES).join(', ')}; got ${p}`);
  return p as UpdatePath;
});
const inGraph = (p: UpdatePath): p is 'graph' | 'graph-conv' => p !== 'host';
const settingsOf = (p: 'graph' | 'graph-conv') => ({
  adam: ADAM_DEFAULTS,
  gradClip: 0,
  convWeightGrad: p === 'graph-conv' ? ('conv' as const) : ('matmul' as const),
});
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
  if (args.batch || args.patch) Object.assign(c, { batch: Number(args.batch ?? c.batch), patch: Number(args.patch ?? c.patch) });
  const shape = { batch: c.batch, patch: c.patch };
  const sessionOpts = {
    threads,
    ep,
    allowSpinning: args.spin,
    ...(args.parallel ? { executionMode: 'parallel' as const } : {}),
    ...(args['ort-verbose'] ? { logSeverity: 0 as const } : {}),
  };
  const t0 = performance.now();
  const step = await OnnxTrainStep.create(config, { type: 'l1' }, shape, sessionOpts);
  const buildSec = (performance.now() - t0) / 1000;
  if (ep !== 'cpu') log(`${c.preset}: ${describeEpReport(step.epReport).join('; ')}`);
  const residents = new Map<'graph' | 'graph-conv', ResidentTrainStep>();
  for (const p of paths.filter(inGraph))
    residents.set(p, await ResidentTrainStep.create(config, { type: 'l1' }, shape, settingsOf(p), { ...sessionOpts, ep: step.ep }));
  // dispatches and host<->device traffic per step, the same graphs rebuilt for the optimised-model dump
  const built = buildTrainGraph(config, { type: 'l1' }, shape, step.target);
  const metrics: Record<string, { nodes: { before: number; after: number }; io: StepTransfer }> = {};
  if (paths.includes('host'))
    metrics.host = { nodes: await optimizedNodeCount(built.onnx, step.ep), io: stepTransfer(built, shape, scale) };
  for (const [p, resident] of residents) {
    const fused = buildUpdateGraph(config, { type: 'l1' }, shape, settingsOf(p), resident.target);
    metrics[p] = { nodes: await optimizedNodeCount(fused.onnx, step.ep), io: residentStepTransfer(fused, shape, scale) };
  }
  for (const [path, m] of Object.entries(metrics))
    log(
      `${c.preset} (${step.target} layout on ${step.ep}), ${PATH_NAMES[path as UpdatePath]}: ${m.nodes.after} nodes/step after ORT's optimisations (${m.nodes.before} built); host->device ${(m.io.upBytes / 1e6).toFixed(2)} MB/step, device->host ${(m.io.downBytes / 1e6).toFixed(3)} MB/step`,
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
  const residentState = () => ({
    params: copyParams(params),
    'adam.m': copyParams(adam.state.m),
    'adam.v': copyParams(adam.state.v),
    ema: copyParams(ema.weights),
  });
  if (step.ep !== 'cpu') {
    // The same step on the CPU EP: the GPU provider must give the same loss and gradients.
    const cpu = await OnnxTrainStep.create(config, { type: 'l1' }, shape, { threads });
    const [a, b] = [await step.run(params, batch), await cpu.run(params, batch)];
    await cpu.release();
    let worst = 0;
    for (const k of step.paramKeys) worst = Math.max(worst, maxRelErr(a.grads.get(k)!, b.grads.get(k)!));
    log(
      `${c.preset} on ${step.ep} vs cpu: loss ${a.loss.toPrecision(7)} vs ${b.loss.toPrecision(7)}, worst gradient error ${worst.toExponential(2)} (max |diff| / max |cpu| per tensor)`,
    );
    for (const [p, resident] of residents) {
      // One in-graph update on the GPU against the host update of the CPU EP's gradients.
      const want = residentState();
      const gpuState = residentState();
      resident.load(gpuState);
      const loss = await resident.run(batch, { ...adamScalars(ADAM_DEFAULTS, 1, 2e-4), emaDecay: 0.999 });
      await resident.readInto(gpuState);
      new Adam(ADAM_DEFAULTS, want.params, { step: 0, m: want['adam.m'], v: want['adam.v'] }).step(want.params, b.grads, 2e-4);
      new Ema(0.999, want.params, want.ema).update(want.params);
      let worstState = 0;
      for (const s of ['params', 'adam.m', 'adam.v', 'ema'] as const)
        for (const k of step.paramKeys) worstState = Math.max(worstState, maxRelErr(gpuState[s].get(k)!, want[s].get(k)!));
      log(
        `${c.preset} ${PATH_NAMES[p]} on ${step.ep} vs host update of cpu gradients: loss ${loss.toPrecision(7)} vs ${b.loss.toPrecision(7)}, worst state error ${worstState.toExponential(2)} (params, moments, EMA)`,
      );
    }
  }
  for (const resident of residents.values()) resident.load(residentState());
  let t = 0;
  const variant = (p: UpdatePath): (() => Promise<StepTime>) => {
    const resident = inGraph(p) ? residents.get(p)! : undefined;
    if (resident) return () => timeOnce(() => resident.run(batch, { ...adamScalars(ADAM_DEFAULTS, ++t, 2e-4), emaDecay: 0.999 }));
    return () =>
      timeOnce(async () => {
        const { grads } = await step.run(params, batch);
        adam.step(params, grads, 2e-4);
        ema.update(params);
      });
  };
  const ours = paths.map((p) => [p, variant(p)] as const);
  for (const [, run] of ours) await run(); // warm-up
  const torch = await torchRunner(c.preset, c.batch, c.patch);
  const oursT = new Map<UpdatePath, StepTime[]>(paths.map((p) => [p, []]));
  const torchT: StepTime[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [p, run] of ours) oursT.get(p)!.push(await run());
    if (typeof torch !== 'string') torchT.push(await torch.step());
  }
  if (typeof torch !== 'string') torch.proc.kill();
  await step.release();
  for (const resident of residents.values()) await resident.release();
  const torchMs = torchT.map((x) => x.wallMs);
  const torchCpu = torchT.map((x) => x.cpuMs);
  for (const p of paths) {
    const oursMs = oursT.get(p)!.map((x) => x.wallMs);
    const oursCpu = oursT.get(p)!.map((x) => x.cpuMs);
    const r = {
      preset: c.preset,
      update: p,
      ep: step.ep,
      torchDevice,
      batch: c.batch,
      lrPatch: c.patch,
      graphBuildAndSessionSec: buildSec,
      nodesPerStep: metrics[p]!.nodes.after,
      nodesBuilt: metrics[p]!.nodes.before,
      hostToDeviceMB: metrics[p]!.io.upBytes / 1e6,
      deviceToHostMB: metrics[p]!.io.downBytes / 1e6,
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
      `${c.preset} batch ${c.batch}, LR patch ${c.patch}, ${PATH_NAMES[p]}: ours ${r.oursMs.toFixed(0)} ms (${r.oursStepsPerSec.toFixed(2)} steps/s)` +
        (r.torchMs !== undefined
          ? `, PyTorch ${r.torchMs.toFixed(0)} ms (${r.torchStepsPerSec!.toFixed(2)} steps/s), ours/PyTorch time ${(r.oursMs / r.torchMs).toFixed(2)}`
          : `; ${torch as string}`) +
        `; CPU ms/step ours ${r.oursCpuMs.toFixed(0)}` +
        (r.torchCpuMs !== undefined ? `, PyTorch ${r.torchCpuMs.toFixed(0)} (ratio ${(r.oursCpuMs / r.torchCpuMs).toFixed(2)})` : '') +
        `  [ours ${r.samples.ours.join(' ')} | torch ${r.samples.torch.join(' ')}]`,
    );
  }
}
if (args.json) console.log(JSON.stringify(results, null, 2));
