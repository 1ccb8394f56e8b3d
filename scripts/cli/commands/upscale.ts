import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { defaultConfigDir } from '../../../engine/api/config-dir';
import { OUTPUT_FORMATS, type OutputFormat } from '../../../engine/image/formats';
import { SessionCache } from '../../../engine/runtime/cache';
import { AUTO_ORDER } from '../../../engine/runtime/providers';
import { describeEpReport, type EpChoice } from '../../../engine/runtime/select';
import { VERDICTS_FILE } from '../../../engine/runtime/speed-check';
import { DEFAULT_TEMPLATE, upscaleBatch, type BatchEvent, type BatchSummary } from '../../../engine/upscale/batch';
import { resolveModel } from '../../../engine/upscale/model';
import { scaleLabel } from '../../../engine/upscale/pipeline';
import { positiveInt } from '../table';
import { batchOptionsFrom } from './batch-options';
import { queuedUpscale } from './queue';

export interface UpscaleCliOptions {
  model?: string;
  weights?: string;
  models?: string;
  scale: number;
  out?: string;
  ep: EpChoice;
  tile: string;
  overlap?: number;
  threads?: number;
  format: OutputFormat | 'same';
  quality?: number;
  recursive?: boolean;
  include?: string;
  template: string;
  skipExisting?: boolean;
  '8bit'?: boolean;
  metadata: boolean;
  json?: boolean;
  summary?: string;
  queue?: string;
  detach?: boolean;
}

function tileOption(v: string): string {
  if (v === 'auto' || (Number.isInteger(Number(v)) && Number(v) >= 8)) return v;
  throw new RangeError(`--tile must be "auto" or an integer >= 8, got ${JSON.stringify(v)}`);
}

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

function mps(v: number): string {
  return v >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

function seconds(s: number): string {
  return !Number.isFinite(s) ? '?' : s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

/** Human output: a redrawn progress line on a TTY, one line per file otherwise. */
function humanReporter(tty: boolean): (e: BatchEvent) => void {
  let epShown = false;
  let lastDraw = 0;
  const tag = (e: { index: number; total: number }) => `[${e.index + 1}/${e.total}]`;
  const clear = () => tty && process.stdout.write('\r\x1b[K');
  return (e) => {
    switch (e.type) {
      case 'start':
        if (!tty) console.log(`${tag(e)} ${e.input} -> ${e.output}`);
        break;
      case 'progress': {
        if (!tty) break;
        const now = performance.now();
        if (now - lastDraw < 100 && e.tilesDone !== e.tilesTotal) break;
        lastDraw = now;
        const pass = e.passes > 1 ? ` pass ${e.pass}/${e.passes}` : '';
        process.stdout.write(
          `\r\x1b[K${tag(e)} ${basename(e.file ?? '')}${pass} ${bar(e.tilesDone / e.tilesTotal)} ${e.tilesDone}/${e.tilesTotal} tiles  ${mps(e.megapixelsPerSec)} MP/s  ETA ${seconds(e.etaSec)}`,
        );
        break;
      }
      case 'done': {
        clear();
        const r = e.result;
        if (!epShown) {
          epShown = true;
          console.log(
            `execution provider: ${r.ep.used}${
              r.ep.attempts.length > 1
                ? ` (${describeEpReport(r.ep)
                    .filter((l) => !l.endsWith(': used'))
                    .join('; ')})`
                : ''
            }`,
          );
        }
        console.log(
          `${tag(e)} done    ${r.output}  ${r.width}x${r.height} -> ${r.outWidth}x${r.outHeight} (${r.scaleLabel})  ${seconds(r.seconds)}, ${mps(r.megapixelsPerSec)} MP/s`,
        );
        break;
      }
      case 'failed':
        clear();
        console.log(`${tag(e)} FAILED  ${e.reason}`);
        break;
      case 'notice':
        clear();
        console.log(`${tag(e)} notice  ${e.message}`);
        break;
      case 'skipped':
        clear();
        console.log(`${tag(e)} skipped ${e.input} (${e.reason}: ${e.output})`);
        break;
    }
  };
}

/** JSON lines: one object per event; progress at most every 200 ms per file (and its last tile). */
function jsonReporter(): (e: BatchEvent) => void {
  let last = 0;
  return (e) => {
    if (e.type === 'progress') {
      const now = performance.now();
      if (now - last < 200 && e.tilesDone !== e.tilesTotal) return;
      last = now;
    }
    const line = e.type === 'done' ? { type: 'done', index: e.index, total: e.total, ...e.result } : e;
    console.log(JSON.stringify(line));
  };
}

export function printSummary(s: BatchSummary): void {
  console.log(
    `\n${s.cancelled ? 'cancelled: ' : ''}${s.succeeded.length} succeeded, ${s.failed.length} failed, ${s.skipped.length} skipped in ${seconds(s.seconds)} (model ${s.model}, ${s.scaleLabel})`,
  );
  for (const f of s.failed) console.log(`  failed: ${f.reason}`);
}

/** `minisr upscale <files|dirs...>`. */
export function upscaleCommand(): Command {
  return new Command('upscale')
    .description('upscale images and folders of images')
    .argument('<paths...>', 'image files and folders')
    .option(
      '-m, --model <model>',
      'shipped model id, an .onnx file (with its card), or a preset with --weights (default: the shipped compact model)',
    )
    .option('--weights <checkpoint>', 'weights (.pth/.safetensors) for a preset given with -m')
    .option(
      '--models <dir>',
      'folder of models for -m ids and the -s default (default: the bundled models; queue workers take their own --models)',
    )
    .addOption(
      new Option(
        '-s, --scale <n>',
        'total factor: a native model of that scale when one is shipped (edsr-mini-x3, edsr-mini-x4), else repeated x2 passes (x3 needs a x3 model)',
      )
        .choices(['2', '3', '4', '8'])
        .default(2)
        .argParser(Number),
    )
    .option('-o, --out <dir>', 'output folder (mirrors the input folders); default: beside each input')
    .addOption(new Option('--ep <provider>', 'execution provider').choices(['auto', ...AUTO_ORDER]).default('auto'))
    .option('--tile <n|auto>', 'tile side in input pixels', tileOption, 'auto')
    .option('--overlap <n>', 'tile context per side (default: the model receptive radius + 4)', (v) => Number(v))
    .option('--threads <n>', 'CPU threads (default: all cores)', positiveInt('--threads'))
    .addOption(new Option('--format <format>', 'output format').choices(['same', ...OUTPUT_FORMATS]).default('same'))
    .option('--quality <q>', 'JPEG/WebP/AVIF quality 1..100', positiveInt('--quality'))
    .option('-r, --recursive', 'descend into sub-folders')
    .option('--include <glob>', 'only files matching this glob (relative to each folder)')
    .option('--template <t>', 'output file name', DEFAULT_TEMPLATE)
    .option('--skip-existing', 'leave outputs that already exist')
    .option('--8bit', 'write 16-bit sources as 8-bit (default: PNG/TIFF outputs keep 16 bits)')
    .option('--no-metadata', 'do not copy ICC profile, EXIF and XMP')
    .option('--json', 'JSON lines (events, then the summary) instead of text')
    .option('--summary <file>', 'also write the JSON summary (succeeded, failed with reasons, skipped) to this file')
    .option(
      '--queue <redis-url>',
      "send one job per image to `minisr worker`s through Redis (paths on storage every worker sees; --ep and --threads are then each worker's own)",
    )
    .option('--detach', 'with --queue: enqueue, print the batch id and return')
    .action(async (paths: string[], opts: UpscaleCliOptions) => {
      if (opts.queue) return queuedUpscale(paths, { ...opts, queue: opts.queue }, printSummary);
      if (opts.detach) throw new Error('--detach needs --queue');
      const model = await resolveModel({
        ...(opts.model ? { model: opts.model } : {}),
        ...(opts.weights ? { weights: opts.weights } : {}),
        ...(opts.models ? { modelsDir: opts.models } : {}),
        scale: opts.scale,
      });
      if (!opts.json)
        console.error(`model ${model.id}: ${opts.scale === model.scale ? `native x${model.scale}` : scaleLabel(opts.scale, model.scale)}`);
      // Ctrl-C or a kill stops within one tile and removes the partial files before exiting.
      const ac = new AbortController();
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      const onSignal = (sig: NodeJS.Signals) => ac.abort(new Error(`interrupted by ${sig}`));
      for (const sig of signals) process.once(sig, onSignal);
      try {
        const summary = await upscaleBatch(paths, {
          ...batchOptionsFrom(opts),
          model,
          ep: opts.ep,
          ...(opts.threads ? { threads: opts.threads } : {}),
          signal: ac.signal,
          // GPU sessions in a GPU process; `auto` times a new GPU against the CPU once (verdict in the config folder).
          sessions: new SessionCache(4, { verdictsFile: join(defaultConfigDir(), VERDICTS_FILE) }),
          onEvent: opts.json ? jsonReporter() : humanReporter(process.stdout.isTTY === true),
        });
        if (opts.summary) await writeFile(opts.summary, `${JSON.stringify(summary, null, 2)}\n`);
        if (opts.json) console.log(JSON.stringify({ type: 'summary', ...summary }));
        else printSummary(summary);
        if (summary.failed.length > 0 || summary.cancelled) process.exitCode = 1;
      } finally {
        for (const sig of signals) process.off(sig, onSignal);
      }
    });
}
