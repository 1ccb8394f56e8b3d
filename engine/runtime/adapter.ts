import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Whether the WebGPU adapter Dawn would hand ORT is a software one (Mesa's lavapipe/llvmpipe,
 * SwiftShader). onnxruntime-node 1.30 reports no adapter info (not in its verbose log, not in the
 * session), so we look where Dawn looks on Linux: the Vulkan drivers (ICD manifests) the loader
 * will use, and the GPU device nodes a hardware driver needs. A software adapter runs WebGPU on
 * the CPU ~40x slower than the CPU EP, so `auto` must not pick it.
 */

export interface AdapterGuess {
  /** software: any adapter WebGPU finds runs on the CPU; possible-hardware: a GPU may be used. */
  readonly kind: 'software' | 'possible-hardware' | 'unknown';
  readonly reason: string;
}

/** Drivers that implement Vulkan on the CPU, matched on the manifest's file or library name. */
const SOFTWARE_DRIVER = /lvp|lavapipe|llvmpipe|swiftshader|swrast/i;

/** Default ICD manifest folders of the Vulkan loader on Linux. */
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** Device nodes that hardware Vulkan drivers open: DRM render nodes, NVIDIA's, WSL2's GPU. */
export function gpuDeviceNodes(devDir = '/dev'): string[] {
  const nodes: string[] = [];
  try {
    for (const n of readdirSync(join(devDir, 'dri'))) if (n.startsWith('renderD')) nodes.push(join(devDir, 'dri', n));
  } catch {
    /* no DRM devices */
  }
  for (const n of ['nvidia0', 'dxg']) if (existsSync(join(devDir, n))) nodes.push(join(devDir, n));
  return nodes;
}

/** The ICD manifests the loader reads: VK_DRIVER_FILES / VK_ICD_FILENAMES replace the defaults. */
export function vulkanDriverManifests(env: NodeJS.ProcessEnv = process.env, dirs: readonly string[] = ICD_DIRS): string[] {
  const listed = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (listed) return listed.split(':').filter(Boolean);
  const out: string[] = [];
  for (const dir of dirs) {
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('.json')) out.push(join(dir, f));
    } catch {
      /* folder absent */
    }
  }
  return out;
}

/** True when a manifest names a CPU implementation (by its file name or its library_path). */
export function isSoftwareDriver(manifest: string): boolean {
  if (SOFTWARE_DRIVER.test(basename(manifest))) return true;
  try {
    const lib = (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '';
    return SOFTWARE_DRIVER.test(basename(lib));
  } catch {
    return false;
  }
}

export interface AdapterProbeInputs {
  readonly platform?: NodeJS.Platform;
  readonly manifests?: readonly string[];
  readonly deviceNodes?: readonly string[];
  readonly isSoftware?: (manifest: string) => boolean;
}

/** Guesses the adapter kind from the drivers and devices present; inputs are injectable for tests. */
export function guessWebgpuAdapter(inputs: AdapterProbeInputs = {}): AdapterGuess {
  const platform = inputs.platform ?? process.platform;
  if (platform !== 'linux') return { kind: 'unknown', reason: `no driver probe on ${platform}` };
  const manifests = inputs.manifests ?? vulkanDriverManifests();
  const isSoftware = inputs.isSoftware ?? isSoftwareDriver;
  const hardware = manifests.filter((m) => !isSoftware(m));
  if (manifests.length > 0 && hardware.length === 0) {
    return { kind: 'software', reason: `only software Vulkan drivers are installed (${manifests.map((m) => basename(m)).join(', ')})` };
  }
  const nodes = inputs.deviceNodes ?? gpuDeviceNodes();
  if (nodes.length === 0) {
    return {
      kind: 'software',
      reason: 'no GPU device node (/dev/dri/renderD*, /dev/nvidia0, /dev/dxg): any WebGPU adapter would run on the CPU',
    };
  }
  return { kind: 'possible-hardware', reason: `GPU device ${nodes[0]} and ${hardware.length} hardware Vulkan driver(s)` };
}
