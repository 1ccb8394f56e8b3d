/**
 * UpscalerJS's models through our Keras importer next to the same models in TensorFlow.js (wasm
 * backend, UpscalerJS's own model definitions), in one run:
 *   npx tsx scripts/bench/upscalerjs.ts psnr [--models esrgan-slim,esrgan-thick] [--scales 2,4] [--sets Set5,Set14]
 *     Y-PSNR/SSIM with `minisr eval`'s protocol; ours runs as `minisr eval --model <imported.onnx>` does
 *     (the ONNX files are written to --out, default a temp folder).
 *   npx tsx scripts/bench/upscalerjs.ts speed [--threads 1,<cores>] [--size 128] [--rounds 5]
 *     input MP/s of esrgan-slim/medium/thick x2/x4, ours (onnxruntime CPU) vs tfjs-wasm at equal
 *     threads; each thread count in its own process (tfjs-wasm fixes its thread count at start).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { PlanarImage } from '../../engine/image/planar';
import { importKeras } from '../../engine/importers/keras';
import { float32Tensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { modelFromOnnxFile } from '../../engine/upscale/model';
import { wholeImageModel } from '../../engine/upscale/whole-image';
import { evaluateSet, type SetResult } from '../../engine/zoo/evaluate';
import { formatTable } from '../cli/table';
import { interleave, medianWall } from './timing';
import { initTfjsWasm, loadTfjsUpscaler, upscalerjsModelJson, type UpscalerjsPackage } from './tfjs-upscalerjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    models: { type: 'string' },
    scales: { type: 'string', default: '2,4' },
    sets: { type: 'string', default: 'Set5,Set14' },
    shared: { type: 'string', default: path.resolve(import.meta.dirname, '../../../shared') },
    out: { type: 'string' },
    threads: { type: 'string' },
    size: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '5' },
  },
});

const list = (s: string) => s.split(',').filter(Boolean);
const scales = list(args.scales).map(Number);

async function psnr(): Promise<void> {
  const models = list(args.models ?? 'esrgan-slim,esrgan-thick') as UpscalerjsPackage[];
  const out = args.out ?? mkdtempSync(path.join(os.tmpdir(), 'minisr-upscalerjs-'));
  await initTfjsWasm(os.availableParallelism());
  const rows = [['model', 'set', 'ours PSNR-Y', 'tfjs PSNR-Y', 'diff (dB)', 'ours SSIM', 'tfjs SSIM']];
  for (const pkg of models)
    for (const scale of scales) {
      const file = path.join(out, `${pkg}-x${scale}.onnx`);
      writeFileSync(file, (await importKeras(upscalerjsModelJson(pkg, scale))).onnx);
      const ours = wholeImageModel(await modelFromOnnxFile(file));
      const tfjs = await loadTfjsUpscaler(pkg, scale);
      const theirs = {
        scale,
        async upscale(img: PlanarImage) {
          const data = await tfjs.run(img.data, img.height, img.width);
          return { width: img.width * scale, height: img.height * scale, channels: 3, data };
        },
      };
      for (const set of list(args.sets)) {
        const dir = path.join(args.shared, 'datasets', set, `x${scale}`);
        const a: SetResult = await evaluateSet(ours, dir);
        const b: SetResult = await evaluateSet(theirs, dir);
        rows.push([
          `${pkg} x${scale}`,
          set,
          a.mean.psnr.toFixed(3),
          b.mean.psnr.toFixed(3),
          (a.mean.psnr - b.mean.psnr).toFixed(4),
          a.mean.ssim.toFixed(4),
          b.mean.ssim.toFixed(4),
        ]);
        console.error(rows[rows.length - 1]!.join('  '));
      }
      await ours.release();
      tfjs.dispose();
    }
  console.log(formatTable(rows));
  console.log(`imported ONNX files in ${out}`);
}

interface SpeedRow {
  model: string;
  threads: number;
  /** Threads tfjs-wasm actually used. */
  tfjsThreads: number;
  ours: number;
  tfjs: number;
}

/** One thread count, this process: ours and tfjs run alternately, model by model. */
async function speedOne(threads: number): Promise<SpeedRow[]> {
  const tfjsThreads = await initTfjsWasm(threads);
  const size = Number(args.size);
  const mp = (size * size) / 1e6;
  const x = Float32Array.from({ length: 3 * size * size }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const rows: SpeedRow[] = [];
  for (const pkg of list(args.models ?? 'esrgan-slim,esrgan-medium,esrgan-thick') as UpscalerjsPackage[])
    for (const scale of scales) {
      const session = await ModelSession.create((await importKeras(upscalerjsModelJson(pkg, scale))).onnx, { threads });
      const tfjs = await loadTfjsUpscaler(pkg, scale);
      const run = { ours: () => session.run({ input: float32Tensor([1, 3, size, size], x) }), tfjs: () => tfjs.run(x, size, size) };
      await run.ours(); // warm-up: session and tfjs kernels initialise on the first run
      await run.tfjs();
      const times = await interleave(Object.entries(run) as ['ours' | 'tfjs', () => Promise<unknown>][], Number(args.rounds), {
        alternate: true,
      });
      const [ours, theirs] = [medianWall(times.get('ours')!) / 1000, medianWall(times.get('tfjs')!) / 1000];
      await session.release();
      tfjs.dispose();
      rows.push({ model: `${pkg} x${scale}`, threads, tfjsThreads, ours: mp / ours, tfjs: mp / theirs });
      console.error(`${pkg} x${scale} threads ${threads}: ours ${(mp / ours).toFixed(4)} MP/s, tfjs ${(mp / theirs).toFixed(4)} MP/s`);
    }
  return rows;
}

async function speed(): Promise<void> {
  const counts = list(args.threads ?? `1,${os.availableParallelism()}`).map(Number);
  const rows: SpeedRow[] = [];
  for (const n of counts) {
    const child = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        import.meta.filename,
        'speed-one',
        '--threads',
        String(n),
        '--size',
        args.size,
        '--rounds',
        args.rounds,
        '--scales',
        args.scales,
        ...(args.models ? ['--models', args.models] : []),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    rows.push(...(JSON.parse(child) as SpeedRow[]));
  }
  const table = [['model', 'threads asked', 'ours MP/s', 'tfjs-wasm MP/s (threads used)', 'ours / tfjs']];
  for (const r of rows)
    table.push([r.model, String(r.threads), r.ours.toFixed(4), `${r.tfjs.toFixed(4)} (${r.tfjsThreads})`, (r.ours / r.tfjs).toFixed(2)]);
  console.log(`input ${args.size}x${args.size}, median of ${args.rounds} interleaved rounds, ${os.availableParallelism()} cores`);
  console.log(formatTable(table));
}

const mode = positionals[0];
if (mode === 'psnr') await psnr();
else if (mode === 'speed') await speed();
else if (mode === 'speed-one') console.log(JSON.stringify(await speedOne(Number(args.threads))));
else throw new Error('usage: upscalerjs.ts psnr|speed [options] (see the comment at the top)');
