/**
 * The timing every bench shares: medians, and interleaved rounds (each variant once per round,
 * in turn) so that the load of a shared machine hits every variant alike.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One call's wall time and this process's CPU time (user + system, and system alone), in ms. */
export interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly sysMs: number;
}

export async function timeOnce(fn: () => Promise<unknown>): Promise<Timing> {
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const wallMs = performance.now() - t;
  const d = process.cpuUsage(c);
  return { wallMs, cpuMs: (d.user + d.system) / 1000, sysMs: d.system / 1000 };
}

/**
 * Runs every variant once per round, `rounds` times; with `alternate` the order reverses every
 * other round, so no variant always runs on another's warm caches. Each variant's timings by name.
 */
export async function interleave<K extends string>(
  variants: readonly (readonly [K, () => Promise<unknown>])[],
  rounds: number,
  opts: { alternate?: boolean } = {},
): Promise<Map<K, Timing[]>> {
  const times = new Map<K, Timing[]>(variants.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    const order = opts.alternate && r % 2 === 1 ? [...variants].reverse() : variants;
    for (const [k, fn] of order) times.get(k)!.push(await timeOnce(fn));
  }
  return times;
}

/** The median wall time of each variant's rounds. */
export function medianWall(times: readonly Timing[]): number {
  return median(times.map((t) => t.wallMs));
}
