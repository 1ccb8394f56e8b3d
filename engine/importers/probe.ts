import { float32Tensor, type HostTensor } from '../io/tensor';
import { ModelSession } from '../runtime/session';

/**
 * What an upscaler does, measured by running it (CPU): its scale and input multiple, and how far
 * a change of one input pixel spreads (the tiler's margin). Used for graphs whose structure does
 * not tell (foreign ONNX) and, for one rule everywhere, on the graphs importers build.
 */

/** Change below a quarter of an 8-bit level: it cannot move a rounded 8-bit output by more than one level. */
export const MARGIN_TOLERANCE = 1 / 255 / 4;

/** Seeded values in [0, 1): probes are repeatable. */
function probeImage(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32;
  }
  return a;
}

export interface ProbeSession {
  readonly session: ModelSession;
  readonly inputName: string;
  readonly outputName: string;
}

async function run(p: ProbeSession, data: Float32Array, h: number, w: number): Promise<HostTensor> {
  const out = await p.session.run({ [p.inputName]: float32Tensor([1, 3, h, w], data) }, [p.outputName]);
  return out[p.outputName]!;
}

/** Output size / input size when it is the same integer on both axes and the output has 3 channels. */
function scaleOf(out: HostTensor, h: number, w: number): number | undefined {
  const [n, c, oh, ow] = out.shape;
  const s = (oh ?? 0) / h;
  return n === 1 && c === 3 && Number.isInteger(s) && s >= 1 && ow === s * w ? s : undefined;
}

/**
 * Scale at a fixed input size, or (symbolic H/W) the smallest input multiple the model runs at
 * with its scale: sizes are tried as m x an odd number, so a model that needs 8 fails at 4 x 7.
 */
export async function probeScale(
  p: ProbeSession,
  fixed?: { height: number; width: number },
): Promise<{ scale: number; inputMultiple: number }> {
  const tries = fixed
    ? [[fixed.height, fixed.width, 1]]
    : ([1, 2, 4, 8, 16, 32, 64].map((m) => [m * (Math.ceil(24 / m) | 1), 0, m]) as number[][]);
  const errors: string[] = [];
  for (const [h, w0, m] of tries as [number, number, number][]) {
    const w = w0 || h;
    try {
      const out = await run(p, probeImage(3 * h * w), h, w);
      const scale = scaleOf(out, h, w);
      if (scale !== undefined) return { scale, inputMultiple: m };
      errors.push(`${h}x${w} -> [${out.shape.join(', ')}]`);
    } catch (e) {
      errors.push(`${h}x${w}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`a trial run found no integer scale with an [N,3,sH,sW] output (${errors.join('; ')})`);
}

export interface MarginResult {
  /** Input pixels (per side) over which flipping one pixel changes the output by more than the tolerance. */
  readonly margin: number;
  /** True when the change reached the probe's border: the margin is at least this (a larger probe was not tried). */
  readonly atLeast: boolean;
  readonly probeSize: number;
}

/**
 * Flips the centre pixel of a seeded image (x -> 1 - x, all channels) and finds the farthest
 * output pixel that changed by more than `tolerance`, in input pixels from the flipped one.
 * Symbolic H/W: probes of 32, 64, 128 ... up to `maxSize` until the change stays inside.
 */
export async function measureMargin(
  p: ProbeSession,
  scale: number,
  opts: { fixed?: { height: number; width: number }; inputMultiple?: number; maxSize?: number; tolerance?: number } = {},
): Promise<MarginResult> {
  const tol = opts.tolerance ?? MARGIN_TOLERANCE;
  const m = opts.inputMultiple ?? 1;
  const sizes: [number, number][] = opts.fixed
    ? [[opts.fixed.height, opts.fixed.width]]
    : [32, 64, 128, 256].filter((s) => s <= (opts.maxSize ?? 128)).map((s) => [Math.ceil(s / m) * m, Math.ceil(s / m) * m]);
  let last: MarginResult | undefined;
  for (const [h, w] of sizes) {
    const base = probeImage(3 * h * w);
    const cy = h >> 1;
    const cx = w >> 1;
    const flipped = base.slice();
    for (let c = 0; c < 3; c++) flipped[(c * h + cy) * w + cx] = 1 - base[(c * h + cy) * w + cx]!;
    const a = (await run(p, base, h, w)).data as Float32Array;
    const b = (await run(p, flipped, h, w)).data as Float32Array;
    const oh = h * scale;
    const ow = w * scale;
    let reach = 0;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < oh; y++)
        for (let x = 0; x < ow; x++) {
          const i = (c * oh + y) * ow + x;
          if (Math.abs(a[i]! - b[i]!) <= tol) continue;
          // Distance in input pixels between the one this output pixel belongs to and the flipped one.
          const d = Math.max(Math.abs(Math.floor(y / scale) - cy), Math.abs(Math.floor(x / scale) - cx));
          reach = Math.max(reach, d);
        }
    const room = Math.min(cy, cx, h - 1 - cy, w - 1 - cx);
    last = { margin: reach, atLeast: reach >= room, probeSize: Math.max(h, w) };
    if (!last.atLeast) return last;
  }
  return last!;
}

/** Opens a CPU session on `bytes` for probing; the caller releases it. */
export async function openProbe(bytes: Uint8Array, inputName: string, outputName: string): Promise<ProbeSession> {
  return { session: await ModelSession.create(bytes, { ep: 'cpu', logSeverity: 4 }), inputName, outputName };
}
