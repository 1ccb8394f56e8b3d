import { Command, Option } from 'commander';
import type { ImportanceReport } from '../../../engine/compress/importance';
import { resolvePruneConfig, runPruneJob, type PruneResult } from '../../../engine/compress/prune';
import { runOnQueue } from './queued-run';
import { addTrainOptions, configFromFlags, requestFromFlags, runFromCli, type TrainFlags } from './train';

export interface PruneFlags extends TrainFlags {
  teacher?: string;
  teacherPreset?: string;
  lambda?: number;
  proxSteps?: number;
  orthantSteps?: number;
  penalty?: string;
  queue?: string;
}

/**
 * Plain SGD steps (OBProx-SG's base direction) need a far larger rate than Adam's 2e-4. See
 * engine/compress/README.md for the runs that chose it.
 */
export const PRUNE_DEFAULT_LR = 1e-2;

const number = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`${flag} must be a number, got ${JSON.stringify(v)}`);
  return n;
};
const count = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${flag} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return n;
};

/** The raw prune config: the training flags plus the teacher as `init`, OBProx-SG as the optimizer, no EMA. */
export async function pruneConfigFromFlags(f: PruneFlags): Promise<Record<string, unknown>> {
  if (f.optimizer && f.optimizer !== 'obprox')
    throw new TypeError(`minisr prune trains with OBProx-SG; --optimizer ${f.optimizer} does not apply`);
  if (f.weightDecay !== undefined) throw new TypeError('--weight-decay does not apply to minisr prune (the penalty weight is --lambda)');
  const extra: Record<string, unknown> = { loss: { type: 'l1' } };
  if (f.teacher) {
    if (/\.onnx$/i.test(f.teacher))
      throw new TypeError('--teacher must be a .pth or .safetensors checkpoint (pruning trains its weights), not an ONNX file');
    if (!f.teacherPreset) throw new TypeError('--teacher needs --teacher-preset (e.g. edsr-baseline)');
    Object.assign(extra, { preset: f.teacherPreset, init: { weights: f.teacher, preset: f.teacherPreset } });
  }
  const c = await configFromFlags(f, extra);
  const optim: Record<string, unknown> = { ...((c.optim as Record<string, unknown> | undefined) ?? {}), type: 'obprox' };
  optim.lr ??= PRUNE_DEFAULT_LR;
  for (const [k, v] of [
    ['lambda', f.lambda],
    ['proxSteps', f.proxSteps],
    ['orthantSteps', f.orthantSteps],
    ['penalty', f.penalty],
  ] as const)
    if (v !== undefined) optim[k] = v;
  c.optim = optim;
  if (!c.init) throw new TypeError('minisr prune needs the teacher: --teacher W.pth --teacher-preset NAME (or init in --config)');
  return c;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** A short account of the report for the terminal. */
export function describeReport(r: ImportanceReport): string[] {
  const lines = [`sparsity: ${pct(r.weightSparsity)} of conv/linear weights (${r.zeros} of ${r.params} parameters are zero)`];
  const zf = [...r.channels.zeroFraction].sort((a, b) => a - b);
  lines.push(
    `feature channels alive: ${r.channels.aliveCount} of ${r.channels.count}${r.channels.exact ? '' : ' (SwinIR: ranked only)'}; zero fraction of their weights min ${pct(zf[0]!)}, median ${pct(zf[zf.length >> 1]!)}, max ${pct(zf[zf.length - 1]!)}`,
  );
  const s = r.structure;
  if (s.family === 'edsr')
    lines.push(
      `residual blocks: ${s.blocks.filter((b) => !b.dead).length} of ${s.blocks.length} not the identity; gains ${s.blocks.map((b) => b.gain.toPrecision(2)).join(' ')}`,
    );
  else {
    lines.push(`residual groups: ${s.stages.filter((st) => !st.dead).length} of ${s.stages.length} not the identity`);
    s.stages.forEach((st, i) =>
      lines.push(`  group ${i}: ${st.layers.filter((l) => !l.dead).length} of ${st.layers.length} layers not the identity`),
    );
  }
  for (const l of r.layers) lines.push(`  ${l.key.padEnd(36)} ${pct(l.sparsity).padStart(6)} zero`);
  return lines;
}

/** The flags `minisr prune` adds to the training flags. */
export function addPruneOptions(cmd: Command): Command {
  return addTrainOptions(cmd)
    .option('--teacher <file>', 'teacher checkpoint (.pth / .safetensors)')
    .option('--teacher-preset <name>', 'architecture of the teacher (e.g. edsr-baseline)')
    .option('--lambda <x>', 'penalty weight', number('--lambda'))
    .addOption(
      new Option(
        '--penalty <kind>',
        'l1: element-wise (the default); group: whole output channels; coupled (EDSR): one group per feature channel (every row writing it) and one per residual block',
      ).choices(['l1', 'group', 'coupled']),
    )
    .option('--prox-steps <n>', 'Prox-SG steps before the orthant steps (default: half the steps)', count('--prox-steps'))
    .option('--orthant-steps <n>', 'orthant steps before switching back to Prox-SG (default 0: until the end)', count('--orthant-steps'));
}

function printNext(reportPath: string): void {
  console.error(`report: ${reportPath}\nnext: minisr compress --report ${reportPath} --params N --out student.json`);
}

/** `minisr prune`: stage 1, L1-sparsify the teacher with OBProx-SG and write `importance.json`. */
export function pruneCommand(): Command {
  const cmd = new Command('prune').description(
    'stage 1 of compression: fine-tune the teacher with OBProx-SG (L1 or group lasso: --penalty l1|group|coupled) to find which channels, layers and blocks matter; writes the sparse weights, model.onnx and importance.json',
  );
  addPruneOptions(cmd).option(
    '--queue <redis-url>',
    'run it on a `minisr worker` through Redis (the run folder, teacher and data on storage every worker sees)',
  );
  return cmd.action(async (f: PruneFlags) => {
    const config = f.resume ? undefined : await pruneConfigFromFlags(f);
    if (f.queue) {
      const r = await runOnQueue(f.queue, f, config, 'prune');
      if (r?.importance && !f.json) printNext(r.importance);
      return;
    }
    let pruned: PruneResult | undefined;
    const r = await runFromCli(requestFromFlags(f, config), f.json === true, {
      resolve: resolvePruneConfig,
      run: async (req, hooks) => (pruned = await runPruneJob(req, hooks)).train,
    });
    if (!pruned?.report || r.aborted) return;
    if (f.json) console.log(JSON.stringify({ type: 'importance', path: pruned.reportPath }));
    else {
      for (const line of describeReport(pruned.report)) console.error(line);
      printNext(pruned.reportPath!);
    }
  });
}
