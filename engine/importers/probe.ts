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
  /** Context radius in input pixels: changing every pixel farther than this moves the centre output by at most the tolerance. */
  readonly margin: number;
  /** True when even the probe's whole extent was not enough: the margin is at least this. */
  readonly atLeast: boolean;
  readonly probeSize: number;
}

/**
 * The context a tile needs: with a seeded image, every pixel farther than r (Chebyshev distance)
 * from the centre pixel is flipped (x -> 1 - x), and r is the smallest radius at which the
 * centre pixel's output block changes by at most `tolerance`, found by bisection. This is what
 * tiling cuts off (the whole surround beyond the overlap), so tiled == untiled within about the
 * tolerance when the overlap is at least the margin. Symbolic H/W: probes of 32, 64, 128 (up to
 * `maxSize`) until the margin fits inside.
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
    const centre = async (img: Float32Array): Promise<Float32Array> => {
      const out = (await run(p, img, h, w)).data as Float32Array;
      const block = new Float32Array(3 * scale * scale);
      for (let c = 0, k = 0; c < 3; c++)
        for (let y = 0; y < scale; y++)
          for (let x = 0; x < scale; x++) block[k++] = out[(c * h * scale + cy * scale + y) * w * scale + cx * scale + x]!;
      return block;
    };
    const ref = await centre(base);
    const changedBeyond = async (r: number): Promise<boolean> => {
      const img = base.slice();
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            if (Math.max(Math.abs(y - cy), Math.abs(x - cx)) > r) img[(c * h + y) * w + x] = 1 - base[(c * h + y) * w + x]!;
          }
      const out = await centre(img);
      return out.some((v, i) => Math.abs(v - ref[i]!) > tol);
    };
    // Beyond `room` there is nothing left to flip.
    const room = Math.max(cy, cx, h - 1 - cy, w - 1 - cx);
    let lo = -1; // largest radius known to be too small
    let hi = room; // smallest radius known to be enough
    if (await changedBeyond(room - 1)) lo = room - 1;
    else hi = room - 1;
    if (lo < 0) {
      lo = -1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (await changedBeyond(mid)) lo = mid;
        else hi = mid;
      }
    }
    // The margin must leave a tile a stride: a probe where it does not is too small to tell.
    last = { margin: hi, atLeast: 2 * hi + 1 > Math.min(h, w), probeSize: Math.max(h, w) };
    if (!last.atLeast) return last;
  }
  return last!;
}

/** Opens a CPU session on `bytes` for probing; the caller releases it. */
export async function openProbe(bytes: Uint8Array, inputName: string, outputName: string): Promise<ProbeSession> {
  return { session: await ModelSession.create(bytes, { ep: 'cpu', logSeverity: 4 }), inputName, outputName };
}
