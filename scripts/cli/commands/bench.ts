import os from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { float32Tensor } from '../../../engine/io/tensor';
import { SessionCache } from '../../../engine/runtime/cache';
import { AUTO_ORDER } from '../../../engine/runtime/providers';
import { describeEpReport, openSession, type EpChoice } from '../../../engine/runtime/select';
import { MODELS_DIR, modelFromWeights, resolveModel, type UpscaleModel } from '../../../engine/upscale/model';
import { readCard } from '../../../engine/zoo/card';
import { isPresetName, presetConfig } from '../../../engine/zoo/presets';
import { randomWeights } from '../../../engine/zoo/random-weights';
import { interleave, medianWall } from '../../bench/timing';
import { formatTable, positiveInt } from '../table';

interface BenchOptions {
  model?: string[];
  ep: string;
  size: number;
  runs: number;
  warmup: number;
  threads?: number;
  json?: boolean;
  gpuProcess?: boolean;
}

export interface BenchRow {
  model: string;
  ep: string;
  /** Provider that ran (differs from `ep` only for auto). */
  used?: string;
  size: number;
  ms?: number;
  megapixelsPerSec?: number;
  error?: string;
  note?: string;
}

/** Shipped models (models/*.onnx) plus the paper's presets at random weights (speed does not depend on weights). */
async function defaultModels(): Promise<string[]> {
  const shipped = existsSync(MODELS_DIR)
    ? readdirSync(MODELS_DIR)
        .filter((f) => f.endsWith('.onnx'))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
  const exported = new Set<string>();
  for (const id of shipped) {
    const card = await readCard(join(MODELS_DIR, `${id}.json`)).catch(() => undefined);
    if (card?.preset) exported.add(card.preset);
  }
  // Presets that no shipped model was exported from, at random weights.
  return [...shipped, ...['edsr-mini', 'swinir-mini', 'edsr-baseline', 'swinir-light'].filter((p) => !exported.has(p))];
}

async function benchModel(name: string): Promise<{ model: UpscaleModel; note?: string }> {
  if (isPresetName(name) && !existsSync(join(MODELS_DIR, `${name}.onnx`))) {
    const config = presetConfig(name);
    return { model: modelFromWeights(name, config, randomWeights(config)), note: 'random weights' };
  }
  return { model: await resolveModel({ model: name }) };
}

/** Times one model on one provider: median wall time of a size x size tile, as input megapixels per second. */
async function benchOne(model: UpscaleModel, ep: EpChoice, o: BenchOptions, inGpuProcess = false): Promise<Omit<BenchRow, 'model'>> {
  let side = o.size;
  if (model.shapes !== 'any') side = model.shapes.height;
  side = Math.ceil(side / model.inputMultiple) * model.inputMultiple;
  const shape = [1, 3, side, side];
  const input = float32Tensor(
    shape,
    Float32Array.from({ length: 3 * side * side }, (_, i) => (i % 251) / 250),
  );
  const feeds = { [model.inputName]: input };
  let opened;
  // The app's path: GPU sessions in the GPU process, each tile crossing to it and back.
  const cache = inGpuProcess ? new SessionCache(1) : undefined;
  try {
    const opts = { probe: feeds, ...(o.threads ? { threads: o.threads } : {}) };
    opened = cache
      ? await cache.get({ model: model.id, ep, shape }, () => model.onnxFor(side, side), opts)
      : await openSession(model.onnxFor(side, side), { ep, ...opts });
  } catch (e) {
    await cache?.clear();
    return { ep, size: side, error: (e as Error).message };
  }
  const { session, report } = opened;
  try {
    for (let i = 0; i < o.warmup; i++) await session.run(feeds);
    const ms = medianWall((await interleave([['model', () => session.run(feeds)]], o.runs)).get('model')!);
    return {
      ep,
      used: report.used,
      size: side,
      ms,
      megapixelsPerSec: (side * side) / 1e6 / (ms / 1000),
      ...(ep === 'auto'
        ? {
            note: describeEpReport(report)
              .filter((l) => !l.endsWith(': used') && !l.includes('skipped'))
              .join('; '),
          }
        : {}),
    };
  } finally {
    await (cache ? cache.clear() : session.release());
  }
}

/** `minisr bench`: throughput (input MP/s) per model per execution provider. */
export function benchCommand(): Command {
  return new Command('bench')
    .description('upscaling throughput (input megapixels per second) per model and execution provider')
    .option(
      '-m, --model <model...>',
      'shipped model ids, .onnx files or presets (random weights); default: shipped models + edsr-mini, swinir-mini, edsr-baseline, swinir-light',
    )
    .option('--ep <list>', `comma-separated providers (${['auto', ...AUTO_ORDER].join(', ')})`, 'cpu')
    .option('--size <n>', 'tile side in input pixels', positiveInt('--size'), 256)
    .option('--runs <n>', 'timed runs (median reported)', positiveInt('--runs'), 5)
    .option('--warmup <n>', 'untimed runs after the first', (v) => Number(v), 1)
    .option('--threads <n>', 'CPU threads (default: all cores)', positiveInt('--threads'))
    .option('--json', 'print JSON')
    .option('--gpu-process', 'also time each GPU provider through the GPU process (as upscale runs it), in rows "<ep> (GPU process)"')
    .action(async (o: BenchOptions) => {
      const eps = o.ep.split(',').map((e) => e.trim()) as EpChoice[];
      for (const ep of eps)
        if (ep !== 'auto' && !AUTO_ORDER.includes(ep)) throw new RangeError(`unknown execution provider ${JSON.stringify(ep)}`);
      const names = o.model ?? (await defaultModels());
      if (!o.json)
        console.log(
          `minisr bench: ${os.cpus().length} CPU cores (${os.cpus()[0]?.model.trim()}), tile ${o.size}x${o.size}, median of ${o.runs} runs\n`,
        );
      const rows: BenchRow[] = [];
      for (const name of names) {
        const { model, note } = await benchModel(name);
        const runs = eps.flatMap((ep) => [{ ep, proc: false }, ...(o.gpuProcess && ep !== 'cpu' ? [{ ep, proc: true }] : [])]);
        for (const { ep, proc } of runs) {
          const r = { model: name, ...(await benchOne(model, ep, o, proc)) };
          const notes = [note, r.note, proc ? 'in the GPU process' : undefined].filter(Boolean);
          const row: BenchRow = notes.length ? { ...r, note: notes.join('; ') } : r;
          rows.push(row);
          if (!o.json)
            console.log(
              `  ${name} on ${ep}${proc ? ' (GPU process)' : ''}: ${row.error ? `failed (${row.error})` : `${row.ms!.toFixed(1)} ms, ${row.megapixelsPerSec!.toFixed(3)} MP/s`}`,
            );
        }
      }
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const table = [['model', 'EP', 'tile', 'ms/tile', 'MP/s', 'note']];
      for (const r of rows)
        table.push([
          r.model,
          r.used && r.used !== r.ep ? `${r.ep} (${r.used})` : r.ep,
          `${r.size}`,
          r.ms?.toFixed(1) ?? '-',
          r.megapixelsPerSec?.toFixed(3) ?? '-',
          r.error ? `failed: ${r.error.slice(0, 100)}` : (r.note ?? '').slice(0, 120),
        ]);
      console.log(`\n${formatTable(table)}`);
    });
}
