import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { importanceOfCheckpoint, readImportanceReport, type ImportanceReport } from '../../../engine/compress/importance';
import { presetConfig } from '../../../engine/zoo/presets';
import { shrink, type ShrinkResult, type ShrinkTarget } from '../../../engine/compress/shrink';
import { resolveArch } from '../../../engine/zoo/registry';
import { positiveInt } from '../table';

export interface CompressFlags {
  report?: string;
  weights?: string;
  preset?: string;
  out: string;
  params?: number;
  feats?: number;
  blocks?: number;
  layers?: number;
  resScale?: number;
  scale?: number;
  channelMultiple?: number;
  json?: boolean;
}

export function targetFromFlags(f: CompressFlags): ShrinkTarget {
  const t: ShrinkTarget = {};
  for (const k of ['params', 'feats', 'blocks', 'layers', 'resScale', 'channelMultiple'] as const) if (f[k] !== undefined) t[k] = f[k];
  if (f.scale !== undefined) {
    if (f.scale !== 2 && f.scale !== 3 && f.scale !== 4) throw new RangeError(`--scale must be 2, 3 or 4, got ${f.scale}`);
    t.scale = f.scale;
  }
  if (t.params === undefined && t.feats === undefined && t.blocks === undefined && t.layers === undefined) {
    throw new TypeError('give a target: --params N (a budget) and/or --feats C, --blocks B, --layers L');
  }
  return t;
}

/** The report to shrink from: a prune run's, or the analysis of a checkpoint (stage 2 without stage 1). */
export async function reportFromFlags(f: CompressFlags): Promise<ImportanceReport> {
  if (f.report && f.weights) throw new TypeError('give --report or --weights, not both');
  if (f.report) return readImportanceReport(f.report);
  if (!f.weights) throw new TypeError('give --report RUN/importance.json (from minisr prune) or --weights W.pth --preset NAME');
  if (!f.preset) throw new TypeError('--weights needs --preset (the architecture of the checkpoint, e.g. edsr-baseline)');
  return importanceOfCheckpoint(presetConfig(f.preset), f.weights);
}

function describe(r: ShrinkResult): string {
  const s = r.sizes;
  return `${r.config.family} x${resolveArch(r.config).scale}: N_c ${s.feats}, N_b ${s.blocks}${s.layers !== undefined ? `, N_l ${s.layers}` : ''}; ${r.params.toLocaleString('en-US')} parameters (report allows up to N_c ${r.bounds.feats}, N_b ${r.bounds.blocks}${r.bounds.layers !== undefined ? `, N_l ${r.bounds.layers}` : ''})`;
}

/** `minisr compress`: stage 2, the compact architecture from an importance report, written as a zoo config for `minisr distill --student-config`. */
export function compressCommand(): Command {
  return new Command('compress')
    .description(
      'stage 2 of compression: choose the compact student architecture (channels N_c, blocks N_b, layers N_l) from a prune report and a parameter budget or explicit sizes',
    )
    .option('--report <file>', 'importance.json written by minisr prune')
    .option('--weights <file>', 'or: analyse this checkpoint (.pth / .safetensors) instead of a prune report')
    .option('--preset <name>', 'architecture of --weights (e.g. edsr-baseline)')
    .requiredOption('--out <file>', 'student config (JSON) for minisr distill --student-config')
    .option('--params <n>', 'parameter budget', positiveInt('--params'))
    .option('--feats <n>', 'feature channels N_c', positiveInt('--feats'))
    .option('--blocks <n>', 'blocks N_b (EDSR residual blocks, SwinIR residual groups)', positiveInt('--blocks'))
    .option('--layers <n>', 'SwinIR: Swin layers per group N_l', positiveInt('--layers'))
    .option('--res-scale <x>', 'EDSR: residual scale of the student (EDSRmini uses 2)', (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new RangeError(`--res-scale must be a positive number, got ${JSON.stringify(v)}`);
      return n;
    })
    .option(
      '--scale <n>',
      "the student's upscale factor, 2, 3 or 4 (default the teacher's): its upsampler counts in --params",
      positiveInt('--scale'),
    )
    .option('--channel-multiple <n>', 'search channel counts in multiples of n (EDSR default 4)', positiveInt('--channel-multiple'))
    .option('--json', 'print the result as JSON')
    .action(async (f: CompressFlags) => {
      const report = await reportFromFlags(f);
      const r = shrink(report, targetFromFlags(f));
      await writeFile(f.out, JSON.stringify(r.config, null, 1) + '\n');
      if (f.json) console.log(JSON.stringify({ type: 'compress', out: f.out, ...r }));
      else
        console.error(
          `${describe(r)}\nstudent config: ${f.out}\nnext: minisr distill --student-config ${f.out} --teacher ... --teacher-preset ... --data ...`,
        );
    });
}
