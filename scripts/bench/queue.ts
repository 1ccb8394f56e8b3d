/**
 * Queue scaling: `npx tsx scripts/bench/queue.ts --queue redis://127.0.0.1:PORT [--images 48]
 * [--size 128x96] [--workers 1,2,4] [--rounds 2]` (start `redis-server --port PORT --save ''`
 * first). Writes a batch of noise images, then per round, interleaved: the batch upscaled by a
 * local `minisr upscale --threads 1`, and by 1, 2, 4 ... `minisr worker --threads 1` processes
 * fed by `minisr upscale --queue`. Workers are started and warmed (a small batch of their own)
 * before the clock starts; each run writes to its own folder, so no job id repeats.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { median } from './timing';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    images: { type: 'string', default: '48' },
    size: { type: 'string', default: '128x96' },
    workers: { type: 'string', default: '1,2,4' },
    rounds: { type: 'string', default: '2' },
    model: { type: 'string', default: 'edsr-mini-x2' },
  },
});
if (!values.queue) throw new Error('--queue redis://127.0.0.1:PORT is required');
const url = values.queue;
const [w, h] = values.size.split('x').map(Number) as [number, number];
const CLI = resolve(import.meta.dirname, '../minisr.mjs');
const run = promisify(execFile);

async function writeImages(folder: string, n: number, seed: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < n; i++) {
    const data = Buffer.alloc(w * h * 3);
    for (let k = 0; k < data.length; k++) data[k] = (k * 2654435761 + (seed + i) * 40503) >>> 24;
    await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(folder, `b${seed}-${i}.png`));
  }
}

async function upscale(args: string[]): Promise<number> {
  const { stdout } = await run(process.execPath, [CLI, 'upscale', ...args, '-m', values.model, '--json'], { maxBuffer: 1 << 26 });
  const s = JSON.parse(stdout.trim().split('\n').pop()!) as { succeeded: unknown[]; failed: unknown[]; seconds: number };
  if (s.failed.length > 0) throw new Error(`failures: ${JSON.stringify(s.failed)}`);
  return s.seconds;
}

function startWorkers(n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const c = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--ep', 'cpu', '--threads', '1']);
      return new Promise<ChildProcess>((res) => c.stdout.on('data', (d: Buffer) => d.toString().includes('ready on') && res(c)));
    }),
  );
}

const dir = await mkdtemp(join(tmpdir(), 'minisr-qbench-'));
const n = Number(values.images);
try {
  await writeImages(join(dir, 'batch'), n, 1);
  const counts = values.workers.split(',').map(Number);
  const rows: Record<string, number[]> = { local: [] };
  for (const c of counts) rows[`${c} worker${c > 1 ? 's' : ''}`] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    rows.local!.push(n / (await upscale([join(dir, 'batch'), '-o', join(dir, `local-${r}`), '--ep', 'cpu', '--threads', '1'])));
    for (const c of counts) {
      const workers = await startWorkers(c);
      const warm = join(dir, `warm-${r}-${c}`);
      await writeImages(warm, 2 * c, 1000 + r * 10 + c);
      await upscale([warm, '-o', `${warm}-out`, '--queue', url]);
      rows[`${c} worker${c > 1 ? 's' : ''}`]!.push(
        n / (await upscale([join(dir, 'batch'), '-o', join(dir, `q${c}-${r}`), '--queue', url])),
      );
      await Promise.all(workers.map((p) => new Promise((res) => (p.once('exit', res), p.kill('SIGTERM')))));
    }
  }
  // Medians over rounds: the timing helper's choice, robust to a round that a neighbour's job slowed.
  const one = rows['1 worker'] ? median(rows['1 worker']) : undefined;
  for (const [name, v] of Object.entries(rows)) {
    const rel = one ? ` (${(median(v) / one).toFixed(2)}x one worker)` : '';
    console.log(`${name.padEnd(10)} ${median(v).toFixed(2)} images/s median  [${v.map((x) => x.toFixed(2)).join(', ')}]${rel}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
