import { openSession, type EpChoice, type EpReport, type OpenOptions } from './select';
import type { ModelSession } from './session';

/**
 * Sessions keyed by (model, requested EP, input shape), least recently used released first.
 * Static-shape models need one session per tile shape; creating one costs far more than a tile,
 * so a batch of same-sized images reuses them.
 */

export interface CachedSession {
  readonly session: ModelSession;
  readonly report: EpReport;
}

export interface SessionKey {
  readonly model: string;
  readonly ep: EpChoice;
  readonly shape: readonly number[];
}

function keyString(k: SessionKey): string {
  return `${k.model}|${k.ep}|${k.shape.join('x')}`;
}

export class SessionCache {
  private readonly entries = new Map<string, Promise<CachedSession>>();

  constructor(readonly capacity = 4) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`SessionCache: capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
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
    const pending = (async () => openSession(await model(), { ...opts, ep: key.ep }))();
    this.entries.set(k, pending);
    pending.catch(() => this.entries.get(k) === pending && this.entries.delete(k));
    await this.evict();
    return pending;
  }

  /** Drops and releases one entry (e.g. after it failed with out-of-memory). */
  async delete(key: SessionKey): Promise<void> {
    const k = keyString(key);
    const entry = this.entries.get(k);
    if (!entry) return;
    this.entries.delete(k);
    await entry.then((e) => e.session.release()).catch(() => undefined);
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((p) => p.then((e) => e.session.release()).catch(() => undefined)));
  }

  private async evict(): Promise<void> {
    while (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Promise<CachedSession>];
      this.entries.delete(oldest);
      await entry.then((e) => e.session.release()).catch(() => undefined);
    }
  }
}
