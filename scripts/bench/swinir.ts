/**
 * SwinIR latency: our graphs vs PyTorch's exports in ../shared/reference-onnx, onnxruntime-node CPU,
 * 1x3x128x128 input, interleaved runs (ours, reference, ours, ...) so machine load hits both alike.
 *   npx tsx scripts/bench/swinir.ts [--runs 15] [--threads 0] [--only mini|light]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { buildOurs, PRESETS } from './swinir-lib';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, threads: { type: 'string', default: '0' }, only: { type: 'string' } },
});
const runs = Number(values.runs);
const threads = Number(values.threads);
const referenceDir = path.resolve(import.meta.dirname, '../../../shared/reference-onnx');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(session: ModelSession, input: HostTensor): Promise<number> {
  const t = performance.now();
  await session.run({ input });
  return performance.now() - t;
}

for (const [name, preset] of Object.entries(PRESETS)) {
  if (values.only && values.only !== name) continue;
  const opts = { threads };
  const ours = await ModelSession.create(await buildOurs(preset, 128, 128), opts);
  const ref = await ModelSession.create(await readFile(path.join(referenceDir, `swinir_${name}_x2.onnx`)), opts);
  const input = float32Tensor(
    [1, 3, 128, 128],
    Float32Array.from({ length: 3 * 128 * 128 }, (_, i) => (i % 97) / 97),
  );
  await time(ours, input);
  await time(ref, input);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < runs; r++) {
    a.push(await time(ours, input));
    b.push(await time(ref, input));
  }
  const [ma, mb] = [median(a), median(b)];
  console.log(
    `swinir_${name} 128x128: ours ${ma.toFixed(1)} ms, reference ${mb.toFixed(1)} ms (medians of ${runs}), reference/ours ${(mb / ma).toFixed(2)}x`,
  );
  await ours.release();
  await ref.release();
}
