import { GpuLostError, GpuProcess, defaultGpuSpawner, type GpuSpawner } from './gpu-process';
import { AUTO_ORDER, providerAvailability } from './providers';
import { autoSkipReason, ExecutionProviderError, openSession, type EpChoice, type EpReport, type OpenOptions } from './select';
import type { ExecutionProvider, RunnableSession } from './session';
import { VerdictFile } from './speed-check';

/**
 * Sessions keyed by (model, requested EP, input shape), least recently used released first.
 * Static-shape models need one session per tile shape; creating one costs far more than a tile,
 * so a batch of same-sized images reuses them.
 *
 * CPU sessions live in this process. GPU sessions live in a GPU process (`gpu-process.ts`) when a
 * spawner is set (the default outside Electron); once the GPU is lost (`gpuLost`), every request,
 * whatever its EP, gets a CPU session here.
 */

export interface CachedSession {
  readonly session: RunnableSession;
  readonly report: EpReport;
}

export interface SessionKey {
  readonly model: string;
  readonly ep: EpChoice;
  readonly shape: readonly number[];
}

export interface SessionCacheOptions {
  /** Starts the GPU process; null: GPU sessions in this process. Default `defaultGpuSpawner()`. */
  readonly gpu?: GpuSpawner | null;
  /** The config folder's GPU speed verdicts: `auto` times a GPU against the CPU once per adapter. */
  readonly verdictsFile?: string;
}

function keyString(k: SessionKey): string {
  return `${k.model}|${k.ep}|${k.shape.join('x')}`;
}

/** The GPU providers `ep` would try: none where `auto` would end on the CPU anyway (no process started). */
function gpuCandidates(ep: EpChoice, opts: OpenOptions): ExecutionProvider[] {
  if (ep !== 'auto') return ep === 'cpu' ? [] : [ep];
  return (opts.autoOrder ?? AUTO_ORDER).filter(
    (e) => e !== 'cpu' && providerAvailability(e).available && !autoSkipReason(e, opts.adapterGuess),
  );
}

export class SessionCache {
  private readonly entries = new Map<string, Promise<CachedSession>>();
  private readonly spawner: GpuSpawner | null;
  private gpu: GpuProcess | undefined;
  private lost: { readonly reason: string; readonly ep: ExecutionProvider } | undefined;

  constructor(
    readonly capacity = 4,
    private readonly opts: SessionCacheOptions = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`SessionCache: capacity must be a positive integer, got ${capacity}`);
    this.spawner = opts.gpu === undefined ? defaultGpuSpawner() : opts.gpu;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Why the GPU was given up, once it was. */
  get gpuLostReason(): string | undefined {
    return this.lost?.reason;
  }

  has(key: SessionKey): boolean {
    return this.entries.has(keyString(key));
  }

  /** The cached session for `key`, or one made from `model()` (bytes or path) and `opts`. */
  async get(
    key: SessionKey,
    model: () => Uint8Array | string | Promise<Uint8Array | string>,
    opts: Omit<OpenOptions, 'ep'> = {},
  ): Promise<CachedSession> {
    const k = keyString(key);
    const hit = this.entries.get(k);
    if (hit) {
      this.entries.delete(k); // re-insert: Map order is the recency order
      this.entries.set(k, hit);
      return hit;
    }
    const pending = (async () => this.open(key.ep, await model(), opts))();
    this.entries.set(k, pending);
    pending.catch(() => this.entries.get(k) === pending && this.entries.delete(k));
    await this.evict();
    return pending;
  }

  private async open(ep: EpChoice, model: Uint8Array | string, opts: Omit<OpenOptions, 'ep'>): Promise<CachedSession> {
    if (this.lost && ep !== 'cpu') return this.cpuInstead(ep, model, opts);
    const verdicts = this.opts.verdictsFile;
    const gpus = gpuCandidates(ep, opts);
    if (!this.spawner || gpus.length === 0)
      return openSession(model, { ...opts, ep, ...(verdicts ? { speedCheck: { store: new VerdictFile(verdicts) } } : {}) });
    this.gpu ??= new GpuProcess(this.spawner);
    try {
      return await this.gpu.open(model, {
        ep,
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.probe ? { probe: opts.probe } : {}),
        ...(ep === 'auto' ? { autoOrder: (opts.autoOrder ?? AUTO_ORDER).filter((e) => e !== 'cpu') } : {}),
        ...(verdicts ? { verdictsFile: verdicts } : {}),
      });
    } catch (err) {
      if (err instanceof GpuLostError && !err.ep) throw new GpuLostError(err.message, gpus[0]);
      if (ep !== 'auto' || !(err instanceof ExecutionProviderError)) throw err;
      // No GPU provider could run it: the CPU, in this process, with the GPU attempts reported.
      const cpu = await openSession(model, { ...opts, ep: 'cpu' });
      return {
        session: cpu.session,
        report: { requested: 'auto', used: 'cpu', attempts: [...err.report.attempts, ...cpu.report.attempts] },
      };
    }
  }

  private async cpuInstead(ep: EpChoice, model: Uint8Array | string, opts: Omit<OpenOptions, 'ep'>): Promise<CachedSession> {
    const cpu = await openSession(model, { ...opts, ep: 'cpu' });
    const lost = { ep: this.lost!.ep, outcome: 'failed' as const, stage: 'run' as const, reason: this.lost!.reason };
    return { session: cpu.session, report: { requested: ep, used: 'cpu', attempts: [lost, ...cpu.report.attempts] } };
  }

  /**
   * The GPU process died or its device was lost: its sessions are dropped and every later request
   * runs on the CPU in this process. Returns the reason (the first loss's, if lost before).
   */
  async gpuLost(err: unknown, ep: ExecutionProvider = 'webgpu'): Promise<string> {
    this.lost ??= { reason: err instanceof Error ? err.message : String(err), ep: err instanceof GpuLostError && err.ep ? err.ep : ep };
    this.gpu?.close();
    this.gpu = undefined;
    for (const [k, entry] of [...this.entries]) {
      const e = await entry.catch(() => undefined);
      if (e?.session.ep === 'cpu') continue;
      if (this.entries.get(k) === entry) this.entries.delete(k);
      await e?.session.release().catch(() => undefined);
    }
    return this.lost.reason;
  }

  /** Drops and releases one entry (e.g. after it failed with out-of-memory). */
  async delete(key: SessionKey): Promise<void> {
    const k = keyString(key);
    const entry = this.entries.get(k);
    if (!entry) return;
    this.entries.delete(k);
    await entry.then((e) => e.session.release()).catch(() => undefined);
  }

  /** Releases every session and ends the GPU process. */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((p) => p.then((e) => e.session.release()).catch(() => undefined)));
    this.gpu?.close();
    this.gpu = undefined;
  }

  private async evict(): Promise<void> {
    while (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Promise<CachedSession>];
      this.entries.delete(oldest);
      await entry.then((e) => e.session.release()).catch(() => undefined);
    }
  }
}
