/**
 * Latency of our zoo graphs next to PyTorch's ONNX exports of the same architectures
 * (../shared/reference-onnx), onnxruntime-node (CPU EP unless told), 1x3x128x128 input, random weights.
 * Per pair: warm-up runs, then rounds that alternate ours / reference so that machine load hits
 * both alike; the median of each is reported with the ratio ours / reference.
 *   npm run bench [-- --runs 10 --warmup 2 --threads 0 --only edsr-mini,swinir-mini]
 */
import { readFile } from 'node:fs/promises';
import { toOnnx } from '../../engine/graph/onnx';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { ModelSession, type ExecutionProvider, type SessionOptions } from '../../engine/runtime/session';
import { buildModel } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';

export const BENCH_PAIRS = [
  { preset: 'edsr-mini', reference: 'edsr_mini_x2.onnx' },
  { preset: 'edsr-baseline', reference: 'edsr_baseline_x2.onnx' },
  { preset: 'swinir-mini', reference: 'swinir_mini_x2.onnx' },
  { preset: 'swinir-light', reference: 'swinir_light_x2.onnx' },
] as const;

export interface BenchOptions {
  /** Folder of the reference ONNX files. */
  readonly referenceDir: string;
  readonly runs: number;
  readonly warmup: number;
  /** onnxruntime intra-op threads; 0 lets it choose. */
  readonly threads: number;
  /** Execution provider for both models (default CPU). */
  readonly ep?: ExecutionProvider;
  readonly size: number;
  readonly only?: readonly string[];
  readonly onResult?: (r: BenchResult) => void;
}

export interface BenchResult {
  readonly preset: string;
  readonly reference: string;
  readonly oursMs: number;
  readonly referenceMs: number;
  /** ours / reference: below 1 means ours is faster. */
  readonly ratio: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeRun(session: ModelSession, feeds: Record<string, HostTensor>): Promise<number> {
  const t0 = performance.now();
  await session.run(feeds);
  return performance.now() - t0;
}

function randomInput(size: number): HostTensor {
  const t = float32Tensor([1, 3, size, size]);
  const d = t.data as Float32Array;
  let s = 7;
  for (let i = 0; i < d.length; i++) d[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return t;
}

export async function benchGraphs(opts: BenchOptions): Promise<BenchResult[]> {
  const sessionOpts: SessionOptions = { ...(opts.threads ? { threads: opts.threads } : {}), ...(opts.ep ? { ep: opts.ep } : {}) };
  const input = randomInput(opts.size);
  const results: BenchResult[] = [];
  for (const pair of BENCH_PAIRS) {
    if (opts.only && !opts.only.includes(pair.preset)) continue;
    const config = presetConfig(pair.preset);
    const { graph } = buildModel(config, { height: opts.size, width: opts.size });
    const ours = await ModelSession.create(toOnnx(graph, { params: 'initializers', weights: randomWeights(config) }), sessionOpts);
    const reference = await ModelSession.create(await readFile(`${opts.referenceDir}/${pair.reference}`), sessionOpts);
    const refFeeds = { [reference.inputNames[0]!]: input };
    for (let i = 0; i < opts.warmup; i++) {
      await timeRun(ours, { input });
      await timeRun(reference, refFeeds);
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      a.push(await timeRun(ours, { input }));
      b.push(await timeRun(reference, refFeeds));
    }
    await ours.release();
    await reference.release();
    const r = { preset: pair.preset, reference: pair.reference, oursMs: median(a), referenceMs: median(b), ratio: median(a) / median(b) };
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}
