/**
 * Latency of our zoo graphs next to PyTorch's ONNX exports of the same architectures
 * (../shared/reference-onnx), onnxruntime-node (CPU EP unless told), 1x3x128x128 input. Ours runs
 * with the reference's weights where they map onto our parameters (EDSR: then the outputs are
 * compared too), else with random ones. Per pair: warm-up runs, then rounds that alternate
 * ours / reference (and which goes first) so that machine load hits both alike; the median of
 * each is reported with the ratio ours / reference.
 *   npm run bench [-- --runs 10 --warmup 2 --threads 0 --only edsr-mini,swinir-mini]
 */
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { toOnnx } from '../../engine/graph/onnx';
import { float32Tensor, type HostTensor, type StateDict } from '../../engine/io/tensor';
import { ModelSession, type ExecutionProvider, type SessionOptions } from '../../engine/runtime/session';
import { buildModel, modelParamShapes } from '../../engine/zoo/build';
import type { ModelConfig } from '../../engine/zoo/registry';
import { presetConfig } from '../../engine/zoo/presets';
import { interleave, medianWall } from './timing';
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
  /** Whether ours ran with the reference's own weights (else random ones). */
  readonly sharedWeights: boolean;
  /** With shared weights: max |ours - reference| over the output, a check that the architectures agree. */
  readonly maxAbsDiff?: number;
}

function randomInput(size: number): HostTensor {
  const t = float32Tensor([1, 3, size, size]);
  const d = t.data as Float32Array;
  let s = 7;
  for (let i = 0; i < d.length; i++) d[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return t;
}

/**
 * The reference's weights in our parameter order, when its initializers are exactly our
 * parameters in the same order and shapes (the EDSR exports, whose module names differ from
 * BasicSR's); undefined otherwise (the SwinIR exports hold pre-transposed MatMul weights).
 */
function referenceWeights(bytes: Uint8Array, config: ModelConfig): StateDict | undefined {
  const inits = (onnxProto.onnx.ModelProto.decode(bytes).graph as onnxProto.onnx.GraphProto).initializer;
  const shapes = [...modelParamShapes(config)];
  if (inits.length !== shapes.length) return undefined;
  const sd: StateDict = new Map();
  for (let i = 0; i < shapes.length; i++) {
    const [key, shape] = shapes[i]!;
    const t = inits[i]!;
    const dims = (t.dims as number[]).map(Number);
    if (t.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT || !t.rawData?.length || dims.join(',') !== shape.join(','))
      return undefined;
    sd.set(key, float32Tensor(dims, new Float32Array(Uint8Array.from(t.rawData).buffer)));
  }
  return sd;
}

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

export async function benchGraphs(opts: BenchOptions): Promise<BenchResult[]> {
  const sessionOpts: SessionOptions = { ...(opts.threads ? { threads: opts.threads } : {}), ...(opts.ep ? { ep: opts.ep } : {}) };
  const input = randomInput(opts.size);
  const results: BenchResult[] = [];
  for (const pair of BENCH_PAIRS) {
    if (opts.only && !opts.only.includes(pair.preset)) continue;
    const config = presetConfig(pair.preset);
    const { graph } = buildModel(config, { height: opts.size, width: opts.size });
    const refBytes = await readFile(`${opts.referenceDir}/${pair.reference}`);
    const shared = referenceWeights(refBytes, config);
    const ours = await ModelSession.create(
      toOnnx(graph, { params: 'initializers', weights: shared ?? randomWeights(config) }),
      sessionOpts,
    );
    const reference = await ModelSession.create(refBytes, sessionOpts);
    const refFeeds = { [reference.inputNames[0]!]: input };
    const run = {
      ours: () => ours.run({ input }),
      reference: () => reference.run(refFeeds),
    };
    for (let i = 0; i < opts.warmup; i++) {
      await run.ours();
      await run.reference();
    }
    let maxDiff: number | undefined;
    if (shared) maxDiff = maxAbsDiff((await ours.run({ input })).output!, Object.values(await reference.run(refFeeds))[0]!);
    // Alternate which model goes first, so neither always runs on the other's warm caches.
    const times = await interleave(
      [
        ['ours', run.ours],
        ['reference', run.reference],
      ] as const,
      opts.runs,
      { alternate: true },
    );
    const [a, b] = [medianWall(times.get('ours')!), medianWall(times.get('reference')!)];
    await ours.release();
    await reference.release();
    const r: BenchResult = {
      preset: pair.preset,
      reference: pair.reference,
      oursMs: a,
      referenceMs: b,
      ratio: a / b,
      sharedWeights: shared !== undefined,
      ...(maxDiff !== undefined ? { maxAbsDiff: maxDiff } : {}),
    };
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}
