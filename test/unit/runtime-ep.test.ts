import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32Tensor } from '../../engine/io/tensor';
import { SessionCache } from '../../engine/runtime/cache';
import { cudaAvailability, providerAvailability, webgpuHint } from '../../engine/runtime/providers';
import { ExecutionProviderError, describeEpReport, isOutOfMemory, openSession } from '../../engine/runtime/select';
import { exportOnnx } from '../../engine/zoo/build';
import { validateConfig } from '../../engine/zoo/registry';
import { randomWeights } from './upscale-helpers';

const config = validateConfig({ family: 'edsr', num_feat: 4, num_block: 1, res_scale: 1 });
const weights = randomWeights(config);
const onnx = (side: number) => exportOnnx(config, weights, { height: side, width: side });
const probe = (side: number) => ({ input: float32Tensor([1, 3, side, side]) });

describe('execution provider selection', () => {
  it('auto runs on some provider and explains every provider it did not use', async () => {
    const { session, report } = await openSession(onnx(8), { ep: 'auto', probe: probe(8) });
    try {
      expect(report.requested).toBe('auto');
      expect(report.attempts.map((a) => a.ep)).toEqual(['cuda', 'dml', 'coreml', 'webgpu', 'cpu'].slice(0, report.attempts.length));
      const used = report.attempts.filter((a) => a.outcome === 'used');
      expect(used.map((a) => a.ep)).toEqual([report.used]);
      for (const a of report.attempts.filter((x) => x.outcome !== 'used')) expect(a.reason?.length).toBeGreaterThan(5);
      expect(describeEpReport(report).length).toBe(report.attempts.length);
      const out = await session.run(probe(8));
      expect(out.output!.shape).toEqual([1, 3, 16, 16]);
    } finally {
      await session.release();
    }
  });

  it('without a GPU adapter WebGPU fails cleanly at creation and auto falls back to CPU', async (ctx) => {
    // the adapter probe stubbed to "a GPU may be there", so auto really tries WebGPU here
    const adapterGuess = () => ({ kind: 'possible-hardware' as const, reason: 'stub' });
    const { session, report } = await openSession(onnx(8), { ep: 'auto', autoOrder: ['webgpu', 'cpu'], probe: probe(8), adapterGuess });
    await session.release();
    const webgpu = report.attempts.find((a) => a.ep === 'webgpu')!;
    if (webgpu.outcome === 'used') ctx.skip(); // a machine with a WebGPU adapter: nothing to fall back from
    expect(webgpu.outcome).toBe('failed');
    expect(webgpu.reason).toMatch(/adapter|webgpu/i);
    expect(report.used).toBe('cpu');
  });

  it('CUDA is skipped with the reason when its libraries are absent', async () => {
    const cuda = providerAvailability('cuda');
    if (!cuda.available) expect(cuda.reason).toMatch(/libonnxruntime_providers_cuda|CUDA libraries|not offered/);
    const { session, report } = await openSession(onnx(8), { ep: 'auto', autoOrder: ['cuda', 'cpu'], probe: probe(8) });
    await session.release();
    const attempt = report.attempts[0]!;
    expect(attempt.ep).toBe('cuda');
    if (!cuda.available) expect([attempt.outcome, attempt.stage]).toEqual(['skipped', 'availability']);
  });

  it('CUDA detection looks for the provider library beside the binding and CUDA/cuDNN on the loader path', async () => {
    if (process.platform !== 'linux') return;
    const root = await mkdtemp(join(tmpdir(), 'minisr-cuda-'));
    try {
      const bin = join(root, 'bin');
      const libs = join(root, 'libs');
      await mkdir(bin);
      await mkdir(libs);
      expect(cudaAvailability(bin, [libs]).reason).toMatch(/libonnxruntime_providers_cuda\.so/);
      await writeFile(join(bin, 'libonnxruntime_providers_cuda.so'), '');
      await writeFile(join(libs, 'libcudart.so.12'), '');
      await writeFile(join(libs, 'libcublasLt.so.12.4.1'), '');
      expect(cudaAvailability(bin, [libs]).reason).toMatch(/libcudnn\.so\.9/);
      await writeFile(join(libs, 'libcudnn.so.9'), '');
      expect(cudaAvailability(bin, [libs])).toEqual({ ep: 'cuda', available: true });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a WebGPU adapter failure on Linux names the missing Vulkan/glvnd libraries', () => {
    if (process.platform !== 'linux') return;
    expect(webgpuHint([])).toMatch(/libvulkan\.so\.1 and libGLdispatch\.so\.0 not found/);
  });

  it('a forced provider that fails is an error, not a silent fallback', async () => {
    const webgpu: Awaited<ReturnType<typeof openSession>> | Error = await openSession(onnx(8), { ep: 'webgpu', probe: probe(8) }).catch(
      (e: Error) => e,
    );
    if (!(webgpu instanceof Error)) {
      await webgpu.session.release(); // this machine has a WebGPU adapter
      expect(webgpu.report.used).toBe('webgpu');
      return;
    }
    expect(webgpu).toBeInstanceOf(ExecutionProviderError);
    expect(webgpu.message).toMatch(/execution provider webgpu failed/);
    expect((webgpu as ExecutionProviderError).report.attempts.map((a) => a.ep)).toEqual(['webgpu']);
  });

  it('a failing first run counts as a provider failure, with its stage', async () => {
    const err = await openSession(onnx(8), { ep: 'cpu', probe: probe(12) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionProviderError);
    expect((err as ExecutionProviderError).report.attempts[0]).toMatchObject({ ep: 'cpu', outcome: 'failed', stage: 'first-run' });
  });

  it('recognises out-of-memory errors', () => {
    expect(isOutOfMemory(new Error('CUDA failure 2: out of memory'))).toBe(true);
    expect(isOutOfMemory(new Error('std::bad_alloc'))).toBe(true);
    expect(isOutOfMemory(new Error('Failed to allocate memory for requested buffer of size 123'))).toBe(true);
    expect(isOutOfMemory(new Error('Got invalid dimensions for input'))).toBe(false);
  });
});

describe('SessionCache', () => {
  const cache = new SessionCache(2);
  afterAll(() => cache.clear());

  it('reuses a session per (model, EP, shape) and releases the least recently used', async () => {
    let built = 0;
    const make = (side: number) => () => {
      built++;
      return onnx(side);
    };
    const k = (side: number) => ({ model: 'm', ep: 'cpu' as const, shape: [1, 3, side, side] });
    const a = await cache.get(k(8), make(8), { probe: probe(8) });
    expect(await cache.get(k(8), make(8))).toBe(a);
    await cache.get(k(12), make(12), { probe: probe(12) });
    await cache.get(k(8), make(8)); // 8 is now the most recent
    await cache.get(k(16), make(16), { probe: probe(16) });
    expect(built).toBe(3);
    expect(cache.size).toBe(2);
    expect(cache.has(k(12))).toBe(false);
    expect(cache.has(k(8))).toBe(true);
    await expect(a.session.run(probe(8))).resolves.toBeDefined(); // not released: still cached
  });

  it('forgets a session whose creation failed', async () => {
    const key = { model: 'bad', ep: 'cpu' as const, shape: [1] };
    await expect(cache.get(key, () => new Uint8Array([1, 2, 3]))).rejects.toThrow();
    expect(cache.has(key)).toBe(false);
  });
});
