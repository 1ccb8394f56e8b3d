/**
 * Interleaved A/B of whole training-step sessions (bench:train's step graph, L1 loss, random
 * params; ORT only, no optimiser): each variant is a session built with its own session options,
 * runs alternate, medians of wall and process CPU ms per step are printed. On a shared machine
 * only interleaved runs in one process compare fairly.
 *   npx tsx scripts/bench/train-ab.ts [--preset edsr-mini] [--threads 1] [--rounds 9]
 *     --variant 'name[:opt=extended][:cfg.key=value][:env.NAME=value][:file=step.onnx]...' --variant ...
 * file=: a step graph saved by another checkout (`--save step.onnx` there), to compare code versions.
 *   npx tsx scripts/bench/train-ab.ts --save /tmp/step.onnx   (writes this checkout's graph, exits)
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession, type SessionOptions } from '../../engine/runtime/session';
import { buildTrainGraph } from '../../engine/train/train-graph';
import { presetConfig } from '../../engine/zoo/presets';
import { interleave, median } from './timing';
import { resolveArch } from '../../engine/zoo/registry';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'edsr-mini' },
    batch: { type: 'string' },
    patch: { type: 'string' },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '9' },
    variant: { type: 'string', multiple: true, default: ['default'] },
    save: { type: 'string' },
  },
});

const config = presetConfig(args.preset);
const swin = config.family === 'swinir';
const [n, p] = [Number(args.batch ?? 16), Number(args.patch ?? (swin ? 64 : 48))];
const P = p * resolveArch(config).scale;
const rand = (shape: readonly number[], s = 1) =>
  float32Tensor(
    shape,
    Float32Array.from({ length: numel(shape) }, () => (Math.random() - 0.5) * s),
  );

interface Variant {
  name: string;
  session: ModelSession;
  feeds: Record<string, HostTensor>;
}

if (args.save) {
  fs.writeFileSync(args.save, buildTrainGraph(config, { type: 'l1' }, { batch: n, patch: p }).onnx);
  process.exit(0);
}
const variants: Variant[] = [];
for (const spec of args.variant) {
  const [name, ...kvs] = spec.split(':');
  const opts: { -readonly [K in keyof SessionOptions]: SessionOptions[K] } = { threads: Number(args.threads) };
  const cfg: Record<string, string> = {};
  // env.X=v: set while this variant's graph is built (for experiment switches in graph rules).
  const env: Record<string, string> = {};
  let file: string | undefined;
  for (const kv of kvs) {
    const [k, v] = kv.split('=') as [string, string];
    if (k === 'opt') opts.graphOptimization = v as 'all';
    else if (k.startsWith('cfg.')) cfg[k.slice(4)] = v;
    else if (k.startsWith('env.')) env[k.slice(4)] = v;
    else if (k === 'file') file = v;
    else throw new RangeError(`unknown variant setting ${k}`);
  }
  opts.configEntries = cfg;
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const built = buildTrainGraph(config, { type: 'l1' }, { batch: n, patch: p });
  for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  Object.assign(process.env, saved);
  const feeds: Record<string, HostTensor> = { lr: rand([n, 3, p, p]), hr: rand([n, 3, P, P]) };
  for (const [k, s] of built.paramShapes) feeds[k] = rand(s, 0.1);
  variants.push({
    name: name!,
    session: await ModelSession.create(file ? fs.readFileSync(file) : built.onnx, opts),
    feeds,
  });
}
for (const v of variants) await v.session.run(v.feeds);
const times = await interleave(
  variants.map((v) => [v.name, () => v.session.run(v.feeds)] as const),
  Number(args.rounds),
);
console.log(`${args.preset} batch ${n} LR ${p}, threads ${args.threads}, ${args.rounds} interleaved rounds, medians:`);
for (const [name, t] of times)
  console.log(
    `  ${name.padEnd(24)} wall ${median(t.map((x) => x.wallMs)).toFixed(1)} ms  CPU ${median(t.map((x) => x.cpuMs)).toFixed(1)} ms (sys ${median(t.map((x) => x.sysMs)).toFixed(1)})`,
  );
