import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { presetConfig } from '../../engine/zoo/presets';
import { startRedis, type TestRedis } from '../helpers/redis';
import { writeSmoothImages } from '../helpers/train-images';
import { randomWeights, writeTestImage } from '../unit/upscale-helpers';

/**
 * The Redis queue front end end to end: a redis-server on a loopback port, `minisr worker`
 * processes and `minisr upscale --queue`, all as a user runs them, plus the faults a queue is
 * for (a worker killed mid-job, Redis restarted mid-batch, a batch enqueued twice).
 */

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../scripts/minisr.mjs');
let dir: string;
let weights: string;
let redis: TestRedis;

interface Summary {
  type: string;
  succeeded: { input: string; output: string }[];
  failed: { input: string; reason: string }[];
  skipped: { input: string; output?: string; reason: string }[];
}

async function minisr(args: string[], timeout = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: dir, timeout });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as Summary;

class WorkerProc {
  readonly child: ChildProcess;
  log = '';
  constructor(extra: string[] = []) {
    this.child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--ep', 'cpu', '--threads', '1', ...extra], { cwd: dir });
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
  }
  ready(): Promise<void> {
    return this.waitFor(/ready on/);
  }
  waitFor(re: RegExp, ms = 60_000): Promise<void> {
    return new Promise((res, rej) => {
      const t0 = Date.now();
      const tick = () => {
        if (re.test(this.log)) return res();
        if (this.child.exitCode !== null) return rej(new Error(`worker exited before ${re}:\n${this.log}`));
        if (Date.now() - t0 > ms) return rej(new Error(`no ${re} within ${ms} ms:\n${this.log}`));
        setTimeout(tick, 50);
      };
      tick();
    });
  }
  /** Inputs this worker upscaled (not those a retry found finished). */
  done(): string[] {
    return [...this.log.matchAll(/^done {4}(\S+) -> \S+$/gm)].map((m) => m[1]!);
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((res) => this.child.once('exit', (code) => res(code)));
    this.child.kill(signal);
    return exited;
  }
}

/** Short job locks for the tests that kill a worker (default 30 s); long enough that a loaded box does not lose a live worker's lock. */
const FAST_STALL = ['--stalled-interval', '1000', '--lock-duration', '5000'];
const model = () => ['-m', 'edsr-mini', '--weights', weights];
const files = async (d: string) => (await readdir(d, { recursive: true })).map(String).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-queue-'));
  weights = join(dir, 'edsr-mini-random.safetensors');
  await saveSafetensors(weights, randomWeights(presetConfig('edsr-mini'), 5));
  redis = await startRedis();
}, 60_000);
afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('minisr worker + minisr upscale --queue', () => {
  it('60 images on three workers: each good one done once, byte-identical to a local run; corrupt ones failed with reasons', async () => {
    const src = join(dir, 'in');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 53; i++)
      await writeTestImage(join(src, `img${String(i).padStart(2, '0')}.png`), 12 + (i % 7), 10 + (i % 5), { seed: i });
    // A 16-bit source: the queue keeps 16 bits as a local run does.
    await sharp(join(src, 'img00.png')).toColourspace('rgb16').png().toFile(join(src, 'img53.png'));
    await writeFile(join(src, 'bad0.png'), 'not an image');
    await writeFile(join(src, 'bad1.png'), Buffer.alloc(0));
    const good = await readFile(join(src, 'img00.png'));
    await writeFile(join(src, 'bad2.png'), good.subarray(0, 40)); // truncated
    await writeFile(join(src, 'bad3.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await writeFile(join(src, 'bad4.webp'), 'RIFF....WEBPjunk');
    await mkdir(join(src, 'bad5.png')); // a folder named like an image

    const local = await minisr(['upscale', src, '-o', join(dir, 'local'), ...model(), '--ep', 'cpu', '--threads', '1', '--json']);
    expect(lastJson(local.stdout).succeeded).toHaveLength(54);

    const workers = [new WorkerProc(), new WorkerProc(), new WorkerProc()];
    try {
      await Promise.all(workers.map((w) => w.ready()));
      const out = join(dir, 'queued');
      const r = await minisr(['upscale', src, '-o', out, ...model(), '--queue', redis.url, '--json']);
      const s = lastJson(r.stdout);
      expect(s.type).toBe('summary');
      expect(s.succeeded).toHaveLength(54);
      expect(s.skipped).toHaveLength(0);
      expect(s.failed.map((f) => f.input.replace(/.*[/\\]/, '')).sort()).toEqual([
        'bad0.png',
        'bad1.png',
        'bad2.png',
        'bad3.jpg',
        'bad4.webp',
        'bad5.png',
      ]);
      for (const f of s.failed) expect(f.reason).toMatch(/bad\d\.\w+: \S/);
      expect(r.code).toBe(1); // failures set the exit code, as a local batch does

      // Exactly once: 54 'done' lines over the three workers, no input twice, and the work was shared.
      const done = workers.flatMap((w) => w.done());
      expect(done).toHaveLength(54);
      expect(new Set(done).size).toBe(54);
      expect(workers.filter((w) => w.done().length > 0).length).toBeGreaterThanOrEqual(2);
      // Bad images are not retried: each failed on its first attempt.
      expect(workers.map((w) => w.log.match(/^start {3}\S*bad\d\.\w+ \(attempt [2-9]/gm) ?? []).flat()).toEqual([]);

      const names = await files(out);
      expect(names).toEqual(await files(join(dir, 'local')));
      expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
      for (const n of names) expect(await readFile(join(out, n))).toEqual(await readFile(join(dir, 'local', n)));
      expect((await sharp(join(out, 'img53_edsr-mini_x2.png')).metadata()).depth).toBe('ushort');

      // The same batch again: nothing is redone, the summary is the same.
      const mtimes = await Promise.all(names.map(async (n) => (await stat(join(out, n))).mtimeMs));
      const again = lastJson((await minisr(['upscale', src, '-o', out, ...model(), '--queue', redis.url, '--json'])).stdout);
      expect([again.succeeded.length, again.failed.length, again.skipped.length]).toEqual([54, 6, 0]);
      expect(workers.flatMap((w) => w.done())).toHaveLength(54);
      expect(await Promise.all(names.map(async (n) => (await stat(join(out, n))).mtimeMs))).toEqual(mtimes);

      // --detach and the queue commands on the same batch (its id is a content key, so the same again).
      const id = (await minisr(['upscale', src, '-o', out, ...model(), '--queue', redis.url, '--detach'])).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      const status = async () =>
        JSON.parse((await minisr(['queue', 'status', id, '--queue', redis.url, '--json'])).stdout) as Summary & { pending: unknown[] };
      const st = await status();
      expect([st.succeeded.length, st.failed.length, st.pending.length]).toEqual([54, 6, 0]);
      expect((await minisr(['queue', 'retry-failed', id, '--queue', redis.url])).stdout).toMatch(/^6 failed jobs queued again/);
      const waited = lastJson((await minisr(['queue', 'wait', id, '--queue', redis.url, '--json'])).stdout);
      expect([waited.succeeded.length, waited.failed.length]).toEqual([54, 6]); // still bad, failed again with their reasons
      expect(workers.flatMap((w) => w.done())).toHaveLength(54);
      expect((await minisr(['queue', 'clean', id, '--queue', redis.url])).stdout).toMatch(/^60 jobs removed/);
      const gone = await minisr(['queue', 'status', id, '--queue', redis.url]);
      expect([gone.code, gone.stderr]).toEqual([1, expect.stringMatching(/no batch/)]);

      // SIGTERM: an idle worker leaves at once, cleanly.
      expect(await Promise.all(workers.map((w) => w.stop()))).toEqual([0, 0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 300_000);

  it('kill -9 of a worker mid-image: the job goes to another worker after the stalled check; one output, no temp files', async () => {
    const src = join(dir, 'kill-in');
    const out = join(dir, 'kill-out');
    await mkdir(src, { recursive: true });
    await writeTestImage(join(src, 'big.png'), 256, 192, { seed: 9 });
    const workers = [new WorkerProc(FAST_STALL), new WorkerProc(FAST_STALL)];
    try {
      await Promise.all(workers.map((w) => w.ready()));
      const producer = minisr(['upscale', src, '-o', out, ...model(), '-s', '4', '--tile', '32', '--queue', redis.url, '--json']);
      // Wait until one worker is writing its temporary files, then kill it without a chance to clean up.
      let victim: WorkerProc | undefined;
      for (let t = 0; !victim && t < 600; t++) {
        const temps = (await readdir(out).catch(() => [])).filter((n) => n.startsWith('.big_'));
        if (temps.length > 0) victim = workers.find((w) => /start {3}\S*big\.png/.test(w.log));
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(victim).toBeDefined();
      await victim!.stop('SIGKILL');
      const survivor = workers.find((w) => w !== victim)!;
      const s = lastJson((await producer).stdout);
      expect([s.succeeded.length, s.failed.length, s.skipped.length]).toEqual([1, 0, 0]);
      expect(survivor.log).toMatch(/start {3}\S*big\.png \(attempt 2\)/);
      expect(survivor.done()).toEqual([join(src, 'big.png')]);
      expect(await readdir(out)).toEqual(['big_edsr-mini_x4.png']);
      expect((await stat(join(out, 'big_edsr-mini_x4.png'))).size).toBeGreaterThan(0);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 180_000);

  it('Redis restarted mid-batch: workers and the producer reconnect and the batch completes, each output once', async () => {
    const src = join(dir, 'restart-in');
    const out = join(dir, 'restart-out');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 24; i++) await writeTestImage(join(src, `r${String(i).padStart(2, '0')}.png`), 96, 72, { seed: 100 + i });
    const workers = [new WorkerProc(), new WorkerProc()];
    try {
      await Promise.all(workers.map((w) => w.ready()));
      const producer = minisr(['upscale', src, '-o', out, ...model(), '--tile', '32', '--queue', redis.url, '--json']);
      await Promise.race(workers.map((w) => w.waitFor(/^done /m)));
      const before = workers.flatMap((w) => w.done()).length;
      await redis.restart(1500);
      const r = await producer;
      const s = lastJson(r.stdout);
      expect([s.succeeded.length, s.failed.length, s.skipped.length]).toEqual([24, 0, 0]);
      expect(workers.filter((w) => w.child.exitCode === null)).toHaveLength(2); // rode out the restart
      expect(before).toBeLessThan(24); // the restart came mid-batch
      const done = workers.flatMap((w) => w.done());
      expect(done).toHaveLength(24);
      expect(new Set(done).size).toBe(24); // none upscaled twice
      const names = await files(out);
      expect(names).toHaveLength(24);
      expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 180_000);

  it('a distillation whose worker is killed resumes from its checkpoint on another worker, with the loss curve of an uninterrupted run', async () => {
    const data = join(dir, 'distill-data');
    await mkdir(data, { recursive: true });
    await writeSmoothImages(data, { count: 2, seed: 2, noise: [6, 6], size: [32, 32], prefix: 't' });
    await writeFile(join(dir, 'student.json'), JSON.stringify({ family: 'edsr', num_feat: 4, num_block: 1 }));
    const distill = (out: string, extra: string[] = []) =>
      minisr([
        'distill',
        ...['--teacher', weights, '--teacher-preset', 'edsr-mini', '--student-config', join(dir, 'student.json'), '--data', data],
        ...['--steps', '120', '--batch', '2', '--patch', '16', '--checkpoint-interval', '10', '--seed', '1', '--threads', '1'],
        ...['--no-worker', '--cache-dir', join(dir, 'distill-cache'), '--out', out, '--json', ...extra],
      ]);
    const reference = await distill(join(dir, 'run-local'));
    expect(reference.code).toBe(0);

    const workers = [new WorkerProc(FAST_STALL), new WorkerProc(FAST_STALL)];
    try {
      await Promise.all(workers.map((w) => w.ready()));
      const run = join(dir, 'run-queued');
      const producer = distill(run, ['--queue', redis.url]);
      const victim = await killFirstToCheckpoint(workers);
      const r = await producer;
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        type: string;
        state: string;
        result: { step: number; worker: string };
      };
      expect([result.type, result.state, result.result.step]).toEqual(['result', 'done', 120]);
      const survivor = workers.find((w) => w !== victim)!;
      expect(survivor.log).toMatch(/^train {3}\S+ \(attempt 2\)/m);
      expect(survivor.log).toMatch(/^trained \S+: 120 steps/m);
      const queued = await latestLosses(run);
      expect(queued).toHaveLength(120);
      expect(queued).toEqual(await latestLosses(join(dir, 'run-local'))); // bit for bit
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 240_000);

  it('a prune run whose worker is killed resumes on another worker: the loss curve and importance.json of an uninterrupted run', async () => {
    const data = join(dir, 'prune-data');
    await mkdir(data, { recursive: true });
    await writeSmoothImages(data, { count: 2, seed: 3, noise: [6, 6], size: [32, 32], prefix: 'p' });
    const prune = (out: string, extra: string[] = []) =>
      minisr([
        'prune',
        ...['--teacher', weights, '--teacher-preset', 'edsr-mini', '--data', data, '--lambda', '0.001'],
        ...['--steps', '60', '--batch', '2', '--patch', '16', '--checkpoint-interval', '10', '--seed', '1', '--threads', '1'],
        ...['--no-worker', '--out', out, '--json', ...extra],
      ]);
    const reference = await prune(join(dir, 'prune-local'));
    expect(reference.code).toBe(0);

    const workers = [new WorkerProc(FAST_STALL), new WorkerProc(FAST_STALL)];
    try {
      await Promise.all(workers.map((w) => w.ready()));
      const run = join(dir, 'prune-queued');
      const producer = prune(run, ['--queue', redis.url]);
      const victim = await killFirstToCheckpoint(workers);
      const r = await producer;
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        type: string;
        state: string;
        result: { step: number; importance: string };
      };
      expect([result.type, result.state, result.result.step]).toEqual(['result', 'done', 60]);
      expect(result.result.importance).toBe(join(run, 'importance.json'));
      const survivor = workers.find((w) => w !== victim)!;
      expect(survivor.log).toMatch(/^train {3}\S+ \(attempt 2\)/m);
      const queued = await latestLosses(run);
      expect(queued).toHaveLength(60);
      expect(queued).toEqual(await latestLosses(join(dir, 'prune-local'))); // bit for bit
      expect(JSON.parse(await readFile(result.result.importance, 'utf8'))).toEqual(
        JSON.parse(await readFile(join(dir, 'prune-local', 'importance.json'), 'utf8')),
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 240_000);
});

/** The loss history recorded in a run folder's latest checkpoint. */
async function latestLosses(run: string): Promise<number[]> {
  const latest = JSON.parse(await readFile(join(run, 'latest.json'), 'utf8')) as { checkpoint: string };
  return (JSON.parse(await readFile(join(run, `${latest.checkpoint}.json`), 'utf8')) as { history: { loss: number[] } }).history.loss;
}

/** Kills (SIGKILL) the first worker whose log shows a checkpoint of the running job, and returns it. */
async function killFirstToCheckpoint(workers: WorkerProc[]): Promise<WorkerProc> {
  const victim = await new Promise<WorkerProc>((res) => {
    const tick = () => {
      const w = workers.find((x) => /^checkpoint /m.test(x.log));
      if (w) res(w);
      else setTimeout(tick, 20);
    };
    tick();
  });
  await victim.stop('SIGKILL');
  return victim;
}
