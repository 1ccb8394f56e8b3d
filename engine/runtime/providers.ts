import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from './session';

/**
 * Which execution providers can be tried on this machine, and why the others cannot. Checks are
 * cheap file-system and platform tests; whether a provider really works is only known once a
 * session is created and run (see select.ts).
 */

export interface ProviderAvailability {
  readonly ep: ExecutionProvider;
  readonly available: boolean;
  /** Why it cannot be tried (absent when available). */
  readonly reason?: string;
}

/** The order `auto` tries providers in: fastest first, CPU last (always works). */
export const AUTO_ORDER: readonly ExecutionProvider[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

/** Folder holding onnxruntime_binding.node and the provider libraries shipped beside it. */
export function ortBinaryDir(): string | undefined {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
  const bin = join(pkgDir, 'bin');
  if (!existsSync(bin)) return undefined;
  for (const napi of readdirSync(bin).sort().reverse()) {
    const dir = join(bin, napi, process.platform, process.arch);
    if (existsSync(join(dir, 'onnxruntime_binding.node'))) return dir;
  }
  return undefined;
}

/** Directories the dynamic loader searches: LD_LIBRARY_PATH, ld.so.conf(.d), the defaults. */
export function loaderSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const confFiles = ['/etc/ld.so.conf'];
  try {
    for (const f of readdirSync('/etc/ld.so.conf.d')) if (f.endsWith('.conf')) confFiles.push(join('/etc/ld.so.conf.d', f));
  } catch {
    /* no conf.d: defaults only */
  }
  for (const f of confFiles) {
    try {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        const t = line.trim();
        if (t.startsWith('/')) dirs.push(t);
      }
    } catch {
      /* unreadable conf: skip */
    }
  }
  dirs.push('/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/local/cuda/lib64');
  return [...new Set(dirs)];
}

function findLibrary(prefix: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const hit = names.find((n) => n.startsWith(prefix));
    if (hit) return join(dir, hit);
  }
  return undefined;
}

/** CUDA needs ORT's provider library (not downloaded by the npm install) plus CUDA 12 and cuDNN 9. */
export function cudaAvailability(binDir = ortBinaryDir(), dirs = loaderSearchDirs()): ProviderAvailability {
  if (process.platform !== 'linux' && process.platform !== 'win32')
    return { ep: 'cuda', available: false, reason: `not offered on ${process.platform}` };
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (!binDir || !existsSync(join(binDir, lib))) {
    return {
      ep: 'cuda',
      available: false,
      reason: `${lib} is not installed beside the onnxruntime binding (the npm install skips the CUDA download)`,
    };
  }
  const missing = ['libcudart.so.12', 'libcublasLt.so.12', 'libcudnn.so.9'].filter((p) => !findLibrary(p, dirs));
  if (missing.length) return { ep: 'cuda', available: false, reason: `CUDA libraries not found on the loader path: ${missing.join(', ')}` };
  return { ep: 'cuda', available: true };
}

function bundled(name: string): boolean {
  return ort.listSupportedBackends().some((b) => b.name === name && b.bundled);
}

export function providerAvailability(ep: ExecutionProvider): ProviderAvailability {
  switch (ep) {
    case 'cpu':
      return { ep, available: true };
    case 'cuda':
      return cudaAvailability();
    case 'dml':
      return process.platform === 'win32' && bundled('dml')
        ? { ep, available: true }
        : { ep, available: false, reason: 'DirectML is Windows-only' };
    case 'coreml':
      return process.platform === 'darwin' && bundled('coreml')
        ? { ep, available: true }
        : { ep, available: false, reason: 'CoreML is macOS-only' };
    case 'webgpu':
      return bundled('webgpu')
        ? { ep, available: true }
        : { ep, available: false, reason: 'this onnxruntime-node build has no WebGPU provider' };
  }
}

/**
 * Why WebGPU may have found no adapter on Linux: Dawn drives the GPU through the Vulkan loader,
 * which needs libvulkan.so.1 and, for NVIDIA's ICD, the GL vendor-neutral dispatch (libglvnd).
 */
export function webgpuHint(dirs = loaderSearchDirs()): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const missing = ['libvulkan.so.1', 'libGLdispatch.so.0'].filter((p) => !findLibrary(p, dirs));
  return missing.length
    ? `${missing.join(' and ')} not found on the loader path (install the Vulkan loader and libglvnd with the GPU driver)`
    : undefined;
}

export function isExecutionProvider(name: string): name is ExecutionProvider {
  return (AUTO_ORDER as readonly string[]).includes(name);
}
