import type { HostTensor } from '../io/tensor';
import { guessWebgpuAdapter, type AdapterGuess } from './adapter';
import { AUTO_ORDER, providerAvailability, webgpuHint } from './providers';
import { ModelSession, type ExecutionProvider, type SessionOptions } from './session';
import { adapterIdentity, measureVerdict, verdictReason, type SpeedCheck } from './speed-check';

/**
 * Opens a session on the best provider that really works: `auto` tries providers in AUTO_ORDER,
 * skipping those that cannot be present and falling back when session creation *or the first
 * run* fails (GPU providers often create fine and fail at the first kernel launch).
 */

export type EpChoice = ExecutionProvider | 'auto';

/** Every provider a user may name, then `auto`. */
export const EP_CHOICES: readonly EpChoice[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'auto'];

export interface EpAttempt {
  readonly ep: ExecutionProvider;
  /** used: runs the model; skipped: not present on this machine, or slower than the CPU; failed: tried and threw. */
  readonly outcome: 'used' | 'skipped' | 'failed';
  /** run: the provider was lost while running (its process died or its device was lost). */
  readonly stage?: 'availability' | 'create' | 'first-run' | 'speed-check' | 'run';
  readonly reason?: string;
  /** Creation plus first run, for tried providers. */
  readonly ms?: number;
}

export interface EpReport {
  readonly requested: EpChoice;
  readonly used: ExecutionProvider;
  readonly attempts: readonly EpAttempt[];
}

export interface OpenOptions extends Omit<SessionOptions, 'ep'> {
  readonly ep?: EpChoice;
  /** Inputs for the trial run; when absent, no first run is made (creation decides). */
  readonly probe?: Readonly<Record<string, HostTensor>>;
  /** Overrides the provider list tried by `auto` (tests). */
  readonly autoOrder?: readonly ExecutionProvider[];
  /** Overrides the WebGPU adapter probe `auto` consults (tests). */
  readonly adapterGuess?: () => AdapterGuess;
  /** `auto` times a GPU against the CPU EP the first time it meets its adapter (needs `probe`). */
  readonly speedCheck?: SpeedCheck;
}

export class ExecutionProviderError extends Error {
  override readonly name = 'ExecutionProviderError';
  constructor(
    message: string,
    readonly report: Omit<EpReport, 'used'>,
  ) {
    super(message);
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // ORT messages carry source paths before the useful part; keep the first non-empty line, bounded.
  let line = (msg.split('\n').find((l) => l.trim()) ?? msg).replace(/^\/\S+:\d+\s+/, '');
  const assertion = line.indexOf(' was false. ');
  if (assertion >= 0) line = line.slice(assertion + ' was false. '.length);
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/**
 * Why `auto` must not try a provider that is present: a software WebGPU adapter is a CPU
 * emulating a GPU, far slower than the CPU EP (and its driver has aborted the process on large
 * inputs). A provider named explicitly is still tried: that is how the WebGPU tests run.
 */
export function autoSkipReason(ep: ExecutionProvider, guess: () => AdapterGuess = guessWebgpuAdapter): string | undefined {
  if (ep !== 'webgpu') return undefined;
  const g = guess();
  return g.kind === 'software' ? `software adapter: ${g.reason}` : undefined;
}

/** Creates a session on one provider and makes the trial run; throws with the failing stage. */
async function tryProvider(model: Uint8Array | string, ep: ExecutionProvider, opts: OpenOptions): Promise<ModelSession> {
  let session: ModelSession;
  try {
    session = await ModelSession.create(model, { ...opts, ep });
  } catch (err) {
    throw Object.assign(new Error(firstLine(err)), { stage: 'create' as const });
  }
  if (opts.probe) {
    try {
      await session.run(opts.probe);
    } catch (err) {
      await session.release().catch(() => undefined);
      throw Object.assign(new Error(firstLine(err)), { stage: 'first-run' as const });
    }
  }
  return session;
}

/** Measures and stores the adapter's verdict; a slower GPU's session is released and the skip recorded. */
async function fasterThanCpu(
  session: ModelSession,
  model: Uint8Array | string,
  ep: ExecutionProvider,
  adapter: string,
  check: SpeedCheck,
  opts: OpenOptions,
  attempts: EpAttempt[],
): Promise<boolean> {
  const t0 = performance.now();
  let verdict;
  try {
    verdict = await measureVerdict(session, model, opts.probe!, adapter, check, opts.threads);
  } catch (err) {
    await session.release().catch(() => undefined);
    throw Object.assign(new Error(firstLine(err)), { stage: 'speed-check' as const });
  }
  await check.store.set(verdict).catch(() => undefined); // unwritable config folder: measure again next time
  if (verdict.use) return true;
  await session.release();
  const reason = verdictReason(verdict, check.store.where);
  attempts.push({ ep, outcome: 'skipped', stage: 'speed-check', reason, ms: Math.round(performance.now() - t0) });
  return false;
}

export async function openSession(
  model: Uint8Array | string,
  opts: OpenOptions = {},
): Promise<{ session: ModelSession; report: EpReport }> {
  const requested = opts.ep ?? 'auto';
  const order = requested === 'auto' ? (opts.autoOrder ?? AUTO_ORDER) : [requested];
  const attempts: EpAttempt[] = [];
  for (const ep of order) {
    const avail = providerAvailability(ep);
    if (!avail.available) {
      attempts.push({ ep, outcome: 'skipped', stage: 'availability', reason: avail.reason ?? 'unavailable' });
      continue;
    }
    const skip = requested === 'auto' ? autoSkipReason(ep, opts.adapterGuess) : undefined;
    if (skip) {
      attempts.push({ ep, outcome: 'skipped', stage: 'availability', reason: skip });
      continue;
    }
    const check = requested === 'auto' && ep !== 'cpu' && opts.probe ? opts.speedCheck : undefined;
    const adapter = check ? (check.adapterId ?? adapterIdentity)(ep) : '';
    const known = check ? await check.store.get(adapter) : undefined;
    if (check && known && !known.use) {
      attempts.push({ ep, outcome: 'skipped', stage: 'speed-check', reason: verdictReason(known, check.store.where) });
      continue;
    }
    const t0 = performance.now();
    try {
      const session = await tryProvider(model, ep, opts);
      if (check && !known && !(await fasterThanCpu(session, model, ep, adapter, check, opts, attempts))) continue;
      attempts.push({ ep, outcome: 'used', ms: Math.round(performance.now() - t0) });
      return { session, report: { requested, used: ep, attempts } };
    } catch (err) {
      const e = err as Error & { stage?: EpAttempt['stage'] };
      const hint = ep === 'webgpu' && /adapter/i.test(e.message) ? webgpuHint() : undefined;
      const reason = hint ? `${e.message}; ${hint}` : e.message;
      attempts.push({ ep, outcome: 'failed', stage: e.stage ?? 'create', reason, ms: Math.round(performance.now() - t0) });
    }
  }
  const why = attempts.map((a) => `${a.ep}: ${a.reason}`).join('; ');
  const msg =
    requested === 'auto' ? `no execution provider could run the model (${why})` : `execution provider ${requested} failed (${why})`;
  throw new ExecutionProviderError(msg, { requested, attempts });
}

/** One line per provider, e.g. for the CLI: "webgpu: failed at create (Failed to get a WebGPU adapter...)". */
export function describeEpReport(r: EpReport): string[] {
  return r.attempts.map((a) =>
    a.outcome === 'used'
      ? `${a.ep}: used`
      : `${a.ep}: ${a.outcome}${a.stage && a.stage !== 'availability' ? ` at ${a.stage}` : ''} (${a.reason})`,
  );
}

/** True for errors that mean the device or host ran out of memory (worth retrying with smaller tiles). */
export function isOutOfMemory(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /out of memory|bad_alloc|failed to allocate|allocation fail|OOM\b|cudaErrorMemoryAllocation|not enough memory/i.test(msg);
}
