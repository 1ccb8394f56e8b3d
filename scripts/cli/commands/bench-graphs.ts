import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { BENCH_PAIRS, benchGraphs } from '../../bench/graphs';
import type { ExecutionProvider } from '../../../engine/runtime/session';
import { formatTable, positiveInt } from '../table';

interface BenchGraphsOptions {
  runs: number;
  warmup: number;
  threads: number;
  size: number;
  only?: string;
  references: string;
  ep: ExecutionProvider;
  json?: boolean;
}

const EPS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

function parseEp(v: string): ExecutionProvider {
  const ep = EPS.find((e) => e === v);
  if (!ep) throw new RangeError(`--ep must be one of ${EPS.join(', ')}, got ${JSON.stringify(v)}`);
  return ep;
}

const DEFAULT_REFERENCES = path.resolve(import.meta.dirname, '../../../../shared/reference-onnx');

/** `minisr bench-graphs` (npm run bench): our graphs' CPU latency next to PyTorch's exports. */
export function benchGraphsCommand(): Command {
  return new Command('bench-graphs')
    .description('onnxruntime CPU latency of our graphs vs the PyTorch reference exports (1x3x128x128, random weights)')
    .option('--runs <n>', 'timed runs of each model (median reported)', positiveInt('--runs'), 10)
    .option('--warmup <n>', 'untimed runs first', positiveInt('--warmup'), 2)
    .option('--threads <n>', 'intra-op threads (0: onnxruntime chooses)', (v) => Number(v), 0)
    .option('--size <n>', 'input side (the SwinIR references accept 128 only)', positiveInt('--size'), 128)
    .option('--only <presets>', `comma-separated subset of ${BENCH_PAIRS.map((p) => p.preset).join(', ')}`)
    .option('--references <dir>', 'folder of the reference ONNX files', DEFAULT_REFERENCES)
    .option('--ep <name>', `execution provider: ${EPS.join(', ')}`, parseEp, 'cpu' as ExecutionProvider)
    .option('--json', 'print JSON')
    .action(async (opts: BenchGraphsOptions) => {
      if (!opts.json)
        console.log(
          `onnxruntime-node ${opts.ep} EP, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), input 1x3x${opts.size}x${opts.size}, median of ${opts.runs} interleaved runs after ${opts.warmup} warm-up\n`,
        );
      const rows = [['model', 'ours (ms)', 'reference (ms)', 'ours/reference', 'weights', 'max |ours - ref|']];
      const results = await benchGraphs({
        referenceDir: opts.references,
        runs: opts.runs,
        warmup: opts.warmup,
        threads: opts.threads,
        size: opts.size,
        ep: opts.ep,
        ...(opts.only ? { only: opts.only.split(',') } : {}),
        onResult: (r) => {
          if (!opts.json) console.log(`  ${r.preset}: ours ${r.oursMs.toFixed(1)} ms, reference ${r.referenceMs.toFixed(1)} ms`);
        },
      });
      if (opts.json) {
        console.log(JSON.stringify(results, null, 2));
        return;
      }
      for (const r of results) {
        rows.push([
          r.preset,
          r.oursMs.toFixed(1),
          r.referenceMs.toFixed(1),
          r.ratio.toFixed(2),
          r.sharedWeights ? "reference's" : 'random',
          r.maxAbsDiff?.toExponential(1) ?? '-',
        ]);
      }
      console.log(`\n${formatTable(rows)}`);
    });
}
