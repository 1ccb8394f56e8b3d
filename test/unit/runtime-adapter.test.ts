import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32Tensor } from '../../engine/io/tensor';
import { gpuDeviceNodes, guessWebgpuAdapter, isSoftwareDriver, vulkanDriverManifests } from '../../engine/runtime/adapter';
import { autoSkipReason, openSession } from '../../engine/runtime/select';
import { exportOnnx } from '../../engine/zoo/build';
import { validateConfig } from '../../engine/zoo/registry';
import { randomWeights } from './upscale-helpers';

let root: string;
const manifest = async (name: string, lib: string) => {
  const p = join(root, name);
  await writeFile(p, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib, api_version: '1.4.305' } }));
  return p;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'minisr-adapter-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('WebGPU adapter probe', () => {
  it('tells software Vulkan drivers (lavapipe, SwiftShader) from hardware ones by manifest and library name', async () => {
    expect(isSoftwareDriver(await manifest('lvp_icd.json', 'libvulkan_lvp.so'))).toBe(true);
    expect(isSoftwareDriver(await manifest('custom.json', '/opt/x/libvk_swiftshader.so'))).toBe(true);
    expect(isSoftwareDriver(await manifest('nvidia_icd.json', 'libGLX_nvidia.so.0'))).toBe(false);
    expect(isSoftwareDriver(await manifest('radeon_icd.json', '/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so'))).toBe(false);
  });

  it('reads the manifests VK_ICD_FILENAMES / VK_DRIVER_FILES name, else the loader folders', async () => {
    expect(vulkanDriverManifests({ VK_ICD_FILENAMES: '/a/lvp.json:/b/x.json' })).toEqual(['/a/lvp.json', '/b/x.json']);
    expect(vulkanDriverManifests({ VK_DRIVER_FILES: '/c.json', VK_ICD_FILENAMES: '/a.json' })).toEqual(['/c.json']);
    const dir = join(root, 'icd.d');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'intel_icd.json'), '{}');
    await writeFile(join(dir, 'notes.txt'), '');
    expect(vulkanDriverManifests({}, [dir, join(root, 'absent')])).toEqual([join(dir, 'intel_icd.json')]);
  });

  it('lists DRM render nodes and NVIDIA / WSL device nodes', async () => {
    const dev = join(root, 'dev');
    await mkdir(join(dev, 'dri'), { recursive: true });
    expect(gpuDeviceNodes(dev)).toEqual([]);
    await writeFile(join(dev, 'dri', 'card0'), '');
    await writeFile(join(dev, 'dri', 'renderD128'), '');
    await writeFile(join(dev, 'nvidia0'), '');
    expect(gpuDeviceNodes(dev)).toEqual([join(dev, 'dri', 'renderD128'), join(dev, 'nvidia0')]);
  });

  it('calls the adapter software when only CPU drivers are installed or no GPU device exists', () => {
    const isSoftware = (m: string) => m.includes('lvp');
    const hw = ['/dev/dri/renderD128'];
    expect(guessWebgpuAdapter({ platform: 'linux', manifests: ['/x/lvp_icd.json'], deviceNodes: hw, isSoftware })).toMatchObject({
      kind: 'software',
      reason: expect.stringContaining('lvp_icd.json'),
    });
    expect(
      guessWebgpuAdapter({ platform: 'linux', manifests: ['/x/lvp.json', '/x/radeon.json'], deviceNodes: [], isSoftware }),
    ).toMatchObject({
      kind: 'software',
      reason: expect.stringContaining('no GPU device node'),
    });
    expect(guessWebgpuAdapter({ platform: 'linux', manifests: ['/x/lvp.json', '/x/radeon.json'], deviceNodes: hw, isSoftware }).kind).toBe(
      'possible-hardware',
    );
    expect(guessWebgpuAdapter({ platform: 'darwin' }).kind).toBe('unknown');
  });
});

describe('auto and software adapters', () => {
  const config = validateConfig({ family: 'edsr', num_feat: 4, num_block: 1, res_scale: 1 });
  const onnx = exportOnnx(config, randomWeights(config), { height: 8, width: 8 });
  const probe = { input: float32Tensor([1, 3, 8, 8]) };

  it('only WebGPU is ever skipped, and only for a software adapter', () => {
    const software = () => ({ kind: 'software' as const, reason: 'only software Vulkan drivers are installed (lvp_icd.json)' });
    const hardware = () => ({ kind: 'possible-hardware' as const, reason: 'GPU device /dev/dri/renderD128' });
    expect(autoSkipReason('webgpu', software)).toMatch(/^software adapter: only software Vulkan drivers/);
    expect(autoSkipReason('webgpu', hardware)).toBeUndefined();
    expect(autoSkipReason('webgpu', () => ({ kind: 'unknown', reason: 'x' }))).toBeUndefined();
    expect(autoSkipReason('cpu', software)).toBeUndefined();
  });

  it('auto skips a software adapter with the reason and runs on the CPU', async () => {
    const adapterGuess = () => ({ kind: 'software' as const, reason: 'only software Vulkan drivers are installed (lvp_icd.json)' });
    const { session, report } = await openSession(onnx, { ep: 'auto', autoOrder: ['webgpu', 'cpu'], probe, adapterGuess });
    await session.release();
    expect(report.used).toBe('cpu');
    expect(report.attempts[0]).toMatchObject({ ep: 'webgpu', outcome: 'skipped', reason: expect.stringContaining('software adapter') });
  });

  it('with a hardware adapter stubbed, auto tries WebGPU (used where an adapter exists, failed at creation where none does)', async () => {
    const adapterGuess = () => ({ kind: 'possible-hardware' as const, reason: 'stub' });
    const { session, report } = await openSession(onnx, { ep: 'auto', autoOrder: ['webgpu', 'cpu'], probe, adapterGuess });
    await session.release();
    expect(['used', 'failed']).toContain(report.attempts[0]!.outcome);
    expect(report.attempts[0]!.ep).toBe('webgpu');
  });

  it('a named webgpu is tried even when the adapter is software', async () => {
    const adapterGuess = () => ({ kind: 'software' as const, reason: 'stub' });
    const opened = await openSession(onnx, { ep: 'webgpu', probe, adapterGuess }).catch((e: Error) => e);
    if (opened instanceof Error) expect(opened.message).not.toMatch(/software adapter/);
    else {
      expect(opened.report.used).toBe('webgpu');
      await opened.session.release();
    }
  });
});
