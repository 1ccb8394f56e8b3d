import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32Tensor } from '../../engine/io/tensor';
import { SessionCache } from '../../engine/runtime/cache';
import type { ChildMessage, ParentMessage } from '../../engine/runtime/gpu-protocol';
import { defaultGpuSpawner, GpuLostError, GpuProcess, isGpuLoss, lastWords } from '../../engine/runtime/gpu-process';
import { portSpawner, serveGpuProcesses } from '../../engine/runtime/gpu-relay';
import { openSession } from '../../engine/runtime/select';
import { ModelSession } from '../../engine/runtime/session';
import { measureVerdict, VerdictFile, type SpeedVerdict } from '../../engine/runtime/speed-check';
import { upscaleBatch, type BatchEvent } from '../../engine/upscale/batch';
import type { UtilityProcessLike } from '../../electron/main/electron-api';
import { utilitySpawner } from '../../electron/main/utility-processes';
import { fakeGpuSpawner } from '../helpers/fake-gpu';
import { tinyModel, writeTestImage } from './upscale-helpers';

/**
 * The engine's side of GPU isolation, on any machine: the GPU process is a stand-in (computing on
 * the CPU) that dies or loses its device mid-batch. The real process and a real abort are tested
 * on WebGPU in test/webgpu/gpu-isolation.test.ts.
 */

const model = tinyModel('tiny');
let dir: string;
const names = ['a', 'b', 'c'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-gpu-fallback-'));
  for (const n of names) await writeTestImage(join(dir, `${n}.png`), 40, 24, { seed: n.charCodeAt(0) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pixels(path: string): Promise<Buffer> {
  return sharp(path).raw().toBuffer();
}

/** The batch on the stand-in GPU (tile 16: several tiles an image), and the same batch on the CPU. */
async function batchWith(fault: { kind: 'abort' | 'device-lost'; atRun: number }, out: string) {
  const spawner = fakeGpuSpawner(fault);
  const sessions = new SessionCache(4, { gpu: spawner });
  const events: BatchEvent[] = [];
  const inputs = names.map((n) => join(dir, `${n}.png`));
  const summary = await upscaleBatch(inputs, {
    model,
    ep: 'webgpu',
    tile: 16,
    sessions,
    outDir: join(dir, out),
    onEvent: (e) => events.push(e),
  });
  const cpu = await upscaleBatch(inputs, { model, ep: 'cpu', tile: 16, sessions: new SessionCache(4), outDir: join(dir, `${out}-cpu`) });
  await sessions.clear();
  return { summary, cpu, events, spawner, sessions };
}

describe('a GPU process lost mid-batch', () => {
  it('dies (native abort) at its 3rd tile: that image and the rest finish on the CPU, equal to a CPU run, with one notice', async () => {
    const { summary, cpu, events, spawner } = await batchWith({ kind: 'abort', atRun: 3 }, 'abort');
    expect(summary.failed).toEqual([]);
    expect(summary.succeeded.map((s) => s.ep)).toEqual(['cpu', 'cpu', 'cpu']);
    const notices = events.filter((e) => e.type === 'notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ index: 0, message: expect.stringMatching(/GPU lost.*SIGABRT.*Napi::Error.*continuing on the CPU/) });
    expect(spawner.spawned).toBe(1); // the lost GPU is not tried again for the next images
    for (const [i, s] of summary.succeeded.entries())
      expect((await pixels(s.output)).equals(await pixels(cpu.succeeded[i]!.output))).toBe(true);
    const later = events.find((e) => e.type === 'done' && e.index === 2);
    expect(later?.type === 'done' && later.result.ep.attempts[0]).toMatchObject({ ep: 'webgpu', outcome: 'failed', stage: 'run' });
  });

  it('reports a lost device at its 2nd tile: the same fallback, the reason in the notice and in later reports', async () => {
    const { summary, events, sessions } = await batchWith({ kind: 'device-lost', atRun: 2 }, 'lost');
    expect(summary.succeeded.map((s) => s.ep)).toEqual(['cpu', 'cpu', 'cpu']);
    const notices = events.filter((e) => e.type === 'notice');
    expect(notices.map((n) => n.type === 'notice' && n.message)).toEqual([expect.stringMatching(/WebGPU device lost \(simulated\)/)]);
    expect(sessions.gpuLostReason).toMatch(/device lost/);
    const done = events.filter((e) => e.type === 'done');
    expect(done.map((d) => d.type === 'done' && d.result.ep.attempts.map((a) => `${a.ep}:${a.outcome}`))).toEqual([
      ['webgpu:failed', 'cpu:used'],
      ['webgpu:failed', 'cpu:used'],
      ['webgpu:failed', 'cpu:used'],
    ]);
  });

  it('fails every waiting request with GpuLostError, and later ones at once without a new process', async () => {
    const spawner = fakeGpuSpawner({ kind: 'abort', atRun: 1 });
    const proc = new GpuProcess(spawner);
    const { session } = await proc.open(model.onnxFor(8, 8), { ep: 'webgpu' });
    const input = { input: float32Tensor([1, 3, 8, 8]) };
    const err = await session.run(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuLostError);
    expect((err as GpuLostError).ep).toBe('webgpu');
    expect(isGpuLoss(err)).toBe(true);
    await expect(session.run(input)).rejects.toThrow(/the GPU process ended \(killed by SIGABRT/);
    await session.release(); // nothing to release in a dead process: resolves
    expect(spawner.spawned).toBe(1);
  });

  it('runs GPU sessions in a forked process by default, in this one with MINISR_GPU_PROCESS=0', () => {
    expect(defaultGpuSpawner({})).toBeTypeOf('function');
    expect(defaultGpuSpawner({ MINISR_GPU_PROCESS: '0' })).toBeNull();
  });

  it("keeps what the process said last before Node's stack dump", () => {
    const stderr =
      "warning: x\nterminate called after throwing an instance of 'Napi::Error'\n  what():  boom\n\n----- Native stack trace -----\n 1: 0xd3a3c0  [node]\n";
    expect(lastWords(stderr)).toBe("terminate called after throwing an instance of 'Napi::Error' what():  boom");
  });
});

describe("the app's GPU process: a utility process started by the main thread for a job worker", () => {
  it('relays sessions over ports; an exit mid-batch moves the batch to the CPU and ends nothing else', async () => {
    // Electron's utilityProcess.fork, played by the stand-in GPU process.
    const gpu = fakeGpuSpawner({ kind: 'abort', atRun: 2 });
    const forks: string[] = [];
    const utilityProcess = {
      fork(entry: string) {
        forks.push(entry);
        const link = gpu();
        const child = Object.assign(new EventEmitter(), {
          stderr: null,
          postMessage: (m: unknown) => link.send(m as ParentMessage),
          kill: () => (link.kill(), true),
        }) as EventEmitter & UtilityProcessLike;
        link.onMessage((m: ChildMessage) => child.emit('message', m));
        link.onExit(() => child.emit('exit', 134));
        return child;
      },
    };
    const { port1, port2 } = new MessageChannel();
    serveGpuProcesses(port1, utilitySpawner(utilityProcess, '/app/gpu-child.mjs')); // the main thread's side
    const sessions = new SessionCache(2, { gpu: portSpawner(port2) }); // the job worker's side
    const events: BatchEvent[] = [];
    const summary = await upscaleBatch([join(dir, 'a.png'), join(dir, 'b.png')], {
      model,
      ep: 'webgpu',
      tile: 16,
      sessions,
      outDir: join(dir, 'relay'),
      onEvent: (e) => events.push(e),
    });
    await sessions.clear();
    port2.close();
    expect(summary.succeeded.map((x) => x.ep)).toEqual(['cpu', 'cpu']);
    expect(events.flatMap((e) => (e.type === 'notice' ? [e.message] : []))).toEqual([
      'GPU lost (the GPU process ended (exit code 134)); continuing on the CPU',
    ]);
    expect(forks).toEqual(['/app/gpu-child.mjs']);
  });
});

describe('first-run speed check', () => {
  const stubVerdict = (use: boolean): SpeedVerdict => ({
    adapter: 'webgpu|stub',
    ep: 'webgpu',
    gpuMs: use ? 5 : 50,
    cpuMs: 10,
    use,
    measuredAt: '2026-12-04T00:00:00.000Z',
  });

  it('stores verdicts per adapter in one JSON file and ignores an unreadable one', async () => {
    const file = join(dir, 'cfg', 'gpu-speed.json');
    const store = new VerdictFile(file);
    expect(await store.get('webgpu|stub')).toBeUndefined();
    await store.set(stubVerdict(false));
    await store.set({ ...stubVerdict(true), adapter: 'webgpu|other' });
    expect(await new VerdictFile(file).get('webgpu|stub')).toEqual(stubVerdict(false));
    expect((await new VerdictFile(file).get('webgpu|other'))?.use).toBe(true);
    await writeFile(file, 'not json');
    expect(await store.get('webgpu|stub')).toBeUndefined();
  });

  it('uses the GPU only when it is faster than the CPU EP (timings stubbed)', async () => {
    const onnx = model.onnxFor(8, 8);
    const probe = { input: float32Tensor([1, 3, 8, 8]) };
    const gpu = await ModelSession.create(onnx, { ep: 'cpu' }); // stands in for the GPU session
    try {
      for (const [gpuMs, cpuMs, use] of [
        [4, 9, true],
        [30, 9, false],
        [9, 9, false],
      ] as const) {
        const time = async (s: ModelSession) => (s === gpu ? gpuMs : cpuMs);
        const v = await measureVerdict(gpu, onnx, probe, 'webgpu|stub', { store: new VerdictFile(join(dir, 'unused.json')), time });
        expect(v).toMatchObject({ adapter: 'webgpu|stub', gpuMs, cpuMs, use });
      }
    } finally {
      await gpu.release();
    }
  });

  it('auto skips an adapter whose stored verdict says slower, without trying or timing it again', async () => {
    const file = join(dir, 'cfg2', 'gpu-speed.json');
    const store = new VerdictFile(file);
    await store.set(stubVerdict(false));
    let timed = 0;
    const { session, report } = await openSession(model.onnxFor(8, 8), {
      ep: 'auto',
      autoOrder: ['webgpu', 'cpu'],
      probe: { input: float32Tensor([1, 3, 8, 8]) },
      adapterGuess: () => ({ kind: 'possible-hardware', reason: 'stub' }),
      speedCheck: { store, adapterId: () => 'webgpu|stub', time: async () => ++timed },
    });
    await session.release();
    expect(report.used).toBe('cpu');
    expect(report.attempts[0]).toMatchObject({ ep: 'webgpu', outcome: 'skipped', stage: 'speed-check' });
    expect(report.attempts[0]!.reason).toMatch(/slower than the CPU EP on this adapter \(50\.0 ms vs 10\.0 ms.*delete .*gpu-speed\.json/);
    expect(timed).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'webgpu|stub': stubVerdict(false) });
  });
});
