import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { arch, cpus, platform, release } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic-write';
import { float32Tensor, type HostTensor } from '../io/tensor';
import { isSoftwareDriver, vulkanDriverManifests } from './adapter';
import { ModelSession, type ExecutionProvider } from './session';

/**
 * `auto`'s second guard against slow GPUs: the first time a GPU adapter is picked, a small
 * inference is timed on it and on the CPU EP, and the GPU is skipped when it is slower. The verdict
 * is kept per adapter (provider, vendor/device, driver) in the config folder, so it is measured once.
 */

/** The verdicts' file name in the config folder. */
export const VERDICTS_FILE = 'gpu-speed.json';

export interface SpeedVerdict {
  readonly adapter: string;
  readonly ep: ExecutionProvider;
  /** Median milliseconds per run of the same input. */
  readonly gpuMs: number;
  readonly cpuMs: number;
  /** The GPU is used when it is faster than the CPU EP. */
  readonly use: boolean;
  readonly measuredAt: string;
}

export interface VerdictStore {
  /** Where verdicts live, for messages ("delete it to measure again"). */
  readonly where: string;
  get(adapter: string): Promise<SpeedVerdict | undefined>;
  set(verdict: SpeedVerdict): Promise<void>;
}

export interface SpeedCheck {
  readonly store: VerdictStore;
  /** The adapter a provider would use (default `adapterIdentity`); tests stub it. */
  readonly adapterId?: (ep: ExecutionProvider) => string;
  /** Milliseconds one run of `feeds` takes on `session` (default: median of 3 timed runs); tests stub it. */
  readonly time?: (session: ModelSession, feeds: Readonly<Record<string, HostTensor>>) => Promise<number>;
}

/** Verdicts as one JSON object keyed by adapter, written atomically (temporary file, rename). */
export class VerdictFile implements VerdictStore {
  constructor(readonly where: string) {}

  private async all(): Promise<Record<string, SpeedVerdict>> {
    try {
      const raw = JSON.parse(await readFile(this.where, 'utf8')) as unknown;
      return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, SpeedVerdict>) : {};
    } catch {
      return {}; // none yet, or unreadable: measure again
    }
  }

  async get(adapter: string): Promise<SpeedVerdict | undefined> {
    const v = (await this.all())[adapter];
    return v && typeof v.use === 'boolean' && Number.isFinite(v.gpuMs) && Number.isFinite(v.cpuMs) ? v : undefined;
  }

  async set(verdict: SpeedVerdict): Promise<void> {
    const all = { ...(await this.all()), [verdict.adapter]: verdict };
    await mkdir(dirname(this.where), { recursive: true });
    await writeJsonAtomic(this.where, all);
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** GPUs on Linux as `vendor:device/driver` (PCI ids and kernel driver of each DRM render node). */
export function linuxGpus(drm = '/sys/class/drm'): string[] {
  let nodes: string[];
  try {
    nodes = readdirSync(drm).filter((n) => n.startsWith('renderD'));
  } catch {
    return [];
  }
  return nodes.sort().map((n) => {
    const dev = join(drm, n, 'device');
    let driver = '?';
    try {
      driver = basename(readlinkSync(join(dev, 'driver')));
    } catch {
      /* no driver link */
    }
    return `${read(join(dev, 'vendor')) ?? '?'}:${read(join(dev, 'device')) ?? '?'}/${driver}`;
  });
}

/**
 * Which adapter `ep` would run on, as a stable key: on Linux the GPUs' PCI ids and drivers, the
 * NVIDIA driver version and the hardware Vulkan drivers (WebGPU); elsewhere the OS release (a
 * driver update there comes with one often enough). onnxruntime-node reports no adapter itself.
 */
export function adapterIdentity(ep: ExecutionProvider): string {
  const parts: string[] = [ep, `${platform()}-${arch()}`];
  if (platform() === 'linux') {
    parts.push(...linuxGpus());
    const nvidia = /Kernel Module\s+(\S+)/.exec(read('/proc/driver/nvidia/version') ?? '')?.[1];
    if (nvidia) parts.push(`nvidia ${nvidia}`);
    if (ep === 'webgpu')
      parts.push(
        ...vulkanDriverManifests()
          .filter((m) => existsSync(m) && !isSoftwareDriver(m))
          .map((m) => basename(m)),
      );
  } else {
    parts.push(release(), cpus()[0]?.model ?? '');
  }
  return parts.join('|');
}

/** Median of 3 timed runs (the probe run before it was the warm-up). */
async function medianMs(session: ModelSession, feeds: Readonly<Record<string, HostTensor>>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[1]!;
}

/** The check's input: the probe, or a 128x128 image where the graph takes any size (a GPU is slow on tiny inputs). */
export function speedFeeds(session: ModelSession, probe: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(probe)) {
    const shape = session.inputShapes[name] ?? [];
    const symbolic = t.shape.length === 4 && shape.length === 4 && typeof shape[2] === 'string' && typeof shape[3] === 'string';
    out[name] = symbolic && t.dtype === 'float32' ? float32Tensor([t.shape[0]!, t.shape[1]!, 128, 128]) : t;
  }
  return out;
}

/** Times `gpu` against a CPU session of the same model; the GPU is used only when faster. */
export async function measureVerdict(
  gpu: ModelSession,
  model: Uint8Array | string,
  probe: Readonly<Record<string, HostTensor>>,
  adapter: string,
  check: SpeedCheck,
  threads?: number,
): Promise<SpeedVerdict> {
  const time = check.time ?? medianMs;
  const feeds = speedFeeds(gpu, probe);
  await gpu.run(feeds); // warm-up at the timed shape
  const gpuMs = await time(gpu, feeds);
  const cpu = await ModelSession.create(model, { ep: 'cpu', ...(threads ? { threads } : {}) });
  try {
    await cpu.run(feeds);
    const cpuMs = await time(cpu, feeds);
    return { adapter, ep: gpu.ep, gpuMs, cpuMs, use: gpuMs < cpuMs, measuredAt: new Date().toISOString() };
  } finally {
    await cpu.release();
  }
}

/** Why a GPU is skipped, e.g. for the CLI: the timings, and how to measure again. */
export function verdictReason(v: SpeedVerdict, where: string): string {
  return `slower than the CPU EP on this adapter (${v.gpuMs.toFixed(1)} ms vs ${v.cpuMs.toFixed(1)} ms a run, measured ${v.measuredAt.slice(0, 10)}; delete ${where} to measure again)`;
}
