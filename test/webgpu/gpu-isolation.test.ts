import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../engine/api/host';
import type { EngineEvent } from '../../engine/api/types';
import { float32Tensor } from '../../engine/io/tensor';
import { SessionCache } from '../../engine/runtime/cache';
import { forkSpawner } from '../../engine/runtime/gpu-process';
import { openSession } from '../../engine/runtime/select';
import { VerdictFile } from '../../engine/runtime/speed-check';
import { upscaleBatch, type BatchEvent } from '../../engine/upscale/batch';
import { modelFromOnnxFile } from '../../engine/upscale/model';
import { startWebServer } from '../../scripts/web/server';
import { exportOnnx } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { writeRandomModel } from '../helpers/random-model';
import { webgpuAvailable } from '../helpers/webgpu';
import { writeTestImage } from '../unit/upscale-helpers';

/**
 * GPU isolation with the real GPU process on WebGPU (lavapipe in CI): the process is made to
 * abort (`process.abort()`, as a driver's native abort does) or to report a lost device at its
 * 2nd tile, through MINISR_GPU_FAULT in *its* environment only. The batch must complete with
 * every output made on the CPU, say so, and the process that ran it (this one, the web server,
 * the CLI) must live on. Small images and tiles: lavapipe is slow.
 */

const run = webgpuAvailable('test/webgpu/gpu-isolation (GPU process, CPU fallback)');
const CLI = join(import.meta.dirname, '../../scripts/minisr.mjs');
let dir: string;
let modelPath: string;
const inputs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-gpu-isolation-'));
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'models'));
  // Random-weight EDSRmini (one graph for every size): fast and runnable; not a real upscale.
  modelPath = await writeRandomModel(join(dir, 'models'), 'edsr-mini-random-x2');
  for (const n of ['a', 'b', 'c']) {
    inputs.push(join(dir, 'in', `${n}.png`));
    await writeTestImage(inputs.at(-1)!, 48, 40, { seed: n.charCodeAt(0) });
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const faulty = (fault: string) => forkSpawner({ env: { ...process.env, MINISR_GPU_FAULT: fault } });

describe.skipIf(!run)('GPU process lost mid-batch (WebGPU)', () => {
  for (const [fault, says] of [
    ['abort:2', /GPU lost \(the GPU process ended \(killed by SIGABRT.*continuing on the CPU/],
    ['device-lost:2', /GPU lost \(WebGPU device lost \(simulated by MINISR_GPU_FAULT\)\); continuing on the CPU/],
  ] as const) {
    it(`${fault}: every image is written, on the CPU, with one notice`, async () => {
      const model = await modelFromOnnxFile(modelPath);
      const sessions = new SessionCache(2, { gpu: faulty(fault) });
      const events: BatchEvent[] = [];
      const out = join(dir, `out-${fault.replace(':', '-')}`);
      try {
        const summary = await upscaleBatch(inputs, {
          model,
          ep: 'webgpu',
          tile: 32,
          sessions,
          outDir: out,
          onEvent: (e) => events.push(e),
        });
        expect(summary.failed).toEqual([]);
        expect(summary.succeeded.map((s) => s.ep)).toEqual(['cpu', 'cpu', 'cpu']);
        const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
        expect(notices).toEqual([expect.stringMatching(says)]);
        expect((await readdir(out)).sort()).toEqual(['a', 'b', 'c'].map((n) => `${n}_edsr-mini-random-x2_x2.png`));
      } finally {
        await sessions.clear();
      }
    });
  }

  it('a web server batch (job worker thread) survives the abort: done on the CPU, a notice event, the server still answers', async () => {
    const host = await EngineHost.create({
      configDir: join(dir, 'config'),
      transport: 'websocket',
      version: 'test',
      roots: [dir],
      modelsDir: join(dir, 'models'),
    });
    await mkdir(join(dir, 'renderer'), { recursive: true });
    await writeFile(join(dir, 'renderer/index.html'), '<!doctype html><title>t</title>');
    const server = await startWebServer({ host, rendererDir: join(dir, 'renderer') });
    const events: EngineEvent[] = [];
    host.onEvent((e) => events.push(e));
    // The job worker (a thread of this process) starts the GPU process with this environment.
    process.env.MINISR_GPU_FAULT = 'abort:2';
    try {
      await host.setSettings({ ep: 'webgpu', tile: 32 });
      const job = await host.startBatch({
        inputs: [join(dir, 'in')],
        modelId: 'edsr-mini-random-x2',
        scale: 2,
        outputDir: join(dir, 'out-web'),
        recursive: false,
        skipExisting: false,
      });
      const done = await new Promise<EngineEvent>((ok) => {
        const check = () => {
          const e = events.find((x) => x.type === 'job' && x.job.id === job.id && ['done', 'failed', 'cancelled'].includes(x.job.state));
          if (e) ok(e);
          else setTimeout(check, 100);
        };
        check();
      });
      expect(done.type === 'job' && done.job).toMatchObject({ state: 'done' });
      expect(events.find((e) => e.type === 'batch-done')).toMatchObject({ summary: { done: 3, failed: 0, skipped: 0 } });
      const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
      expect(notices).toEqual([expect.stringMatching(/^a\.png: GPU lost \(the GPU process ended \(killed by SIGABRT/)]);
      const status = await new Promise<number>((ok, fail) =>
        request(`${server.url}`, (res) => ok(res.statusCode ?? 0))
          .on('error', fail)
          .end(),
      );
      expect(status).toBe(200);
      expect((await host.systemInfo()).version).toBe('test');
    } finally {
      delete process.env.MINISR_GPU_FAULT;
      await server.close();
      await host.close();
    }
  });

  it('the CLI survives the abort: exit 0, every output, a notice line', async () => {
    const out = join(dir, 'out-cli');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'upscale', ...inputs, '-o', out, '-m', modelPath, '--ep', 'webgpu', '--tile', '32'],
      { env: { ...process.env, MINISR_GPU_FAULT: 'abort:2', MINISR_CONFIG_DIR: join(dir, 'cli-config') }, timeout: 120_000 },
    );
    expect(stdout).toMatch(/\[1\/3\] notice {2}GPU lost \(the GPU process ended \(killed by SIGABRT.*continuing on the CPU/);
    expect(stdout).toMatch(/3 succeeded, 0 failed, 0 skipped/);
    expect((await readdir(out)).length).toBe(3);
  });
});

describe.skipIf(!run)('first-run speed check on a WebGPU adapter', () => {
  // A fixed 32x32 graph: the check times the probe's shape (a graph taking any size is timed at 128x128, too slow on lavapipe).
  const config = presetConfig('edsr-mini');
  const onnx = exportOnnx(config, randomWeights(config, 1), { height: 32, width: 32 });
  const probe = { input: float32Tensor([1, 3, 32, 32]) };
  // lavapipe is a software adapter, which auto skips before any check: stub "a GPU may be there".
  const hardware = () => ({ kind: 'possible-hardware' as const, reason: 'stub' });

  it('keeps the GPU when it is faster, skips it when slower (timings stubbed), and measures once per adapter', async () => {
    const store = new VerdictFile(join(dir, 'verdicts', 'gpu-speed.json'));
    let timed = 0;
    const open = async (adapter: string, gpuMs: number) =>
      openSession(onnx, {
        ep: 'auto',
        autoOrder: ['webgpu', 'cpu'],
        probe,
        adapterGuess: hardware,
        speedCheck: { store, adapterId: () => adapter, time: async (s) => (timed++, s.ep === 'webgpu' ? gpuMs : 10) },
      });
    const fast = await open('fast-gpu', 4);
    expect(fast.report.used).toBe('webgpu');
    await fast.session.release();
    const slow = await open('slow-gpu', 40);
    expect(slow.report.used).toBe('cpu');
    expect(slow.report.attempts[0]).toMatchObject({ ep: 'webgpu', outcome: 'skipped', stage: 'speed-check' });
    expect(slow.report.attempts[0]!.reason).toMatch(/40\.0 ms vs 10\.0 ms/);
    await slow.session.release();
    expect(timed).toBe(4);
    expect((await store.get('fast-gpu'))?.use).toBe(true);
    expect((await store.get('slow-gpu'))?.use).toBe(false);
    const again = await open('slow-gpu', 1); // the stored verdict, not a new measurement
    expect(again.report.used).toBe('cpu');
    expect(timed).toBe(4);
    await again.session.release();
  });

  it('with real timings, uses the adapter exactly when it measured faster than the CPU EP', async () => {
    const store = new VerdictFile(join(dir, 'verdicts-real', 'gpu-speed.json'));
    const { session, report } = await openSession(onnx, {
      ep: 'auto',
      autoOrder: ['webgpu', 'cpu'],
      probe,
      adapterGuess: hardware,
      speedCheck: { store, adapterId: () => 'lavapipe' },
    });
    await session.release();
    const v = (await store.get('lavapipe'))!;
    console.log(`speed check on this adapter: webgpu ${v.gpuMs.toFixed(1)} ms, cpu ${v.cpuMs.toFixed(1)} ms a 32x32 run`);
    expect(v.use).toBe(v.gpuMs < v.cpuMs);
    expect(report.used).toBe(v.use ? 'webgpu' : 'cpu');
  });
});
