/**
 * Bicubic resize with MATLAB `imresize` semantics (the SR community's LR generator):
 * cubic kernel a = -0.5, kernel widened by 1/scale when downscaling (antialiasing),
 * MATLAB's pixel-centre mapping u = x/scale + 0.5(1 - 1/scale), rows normalised to sum 1,
 * all-zero tap columns dropped. Separable; the dimension with the smaller scale goes first
 * (height first on ties), as MATLAB does. Arithmetic in float64, result float32 and unclamped.
 *
 * Edges: imresize.m's listing mirrors out-of-range taps ('symmetric'), but the MATLAB-made LR
 * images in ../shared are reproduced bit for bit only with the edge pixel repeated
 * ('replicate', the default here) plus uint8 rounding after each pass (`SR_BENCHMARK_LR`);
 * see test/golden/bicubic-lr.test.ts. The modes differ only within 2/scale input pixels of the borders.
 */
import { assertPlanar, type PlanarImage } from './planar';

export interface ResizeOptions {
  /** Widen the kernel when downscaling, as MATLAB does by default. Default true. */
  antialiasing?: boolean;
  /**
   * Out-of-range taps: 'replicate' repeats the edge pixel (matches MATLAB's output);
   * 'symmetric' mirrors about the edge, edge pixel included (imresize.m's listing). Default 'replicate'.
   */
  edge?: 'symmetric' | 'replicate';
  /**
   * Treat the image as MATLAB uint8: input rounded to 1/255 steps, result clamped and rounded
   * after each pass (MATLAB resizes uint8 images one dimension at a time in uint8). Default false.
   */
  uint8?: boolean;
}

/** The options that reproduce the MATLAB-made LR images of ../shared bit for bit (Set5/Set14 x2-x4, BSD100 x2). */
export const SR_BENCHMARK_LR: Readonly<ResizeOptions> = Object.freeze({ edge: 'replicate', uint8: true } as const);

/** Output-pixel -> input taps for one axis: `taps` indices/weights per output pixel. */
interface Contributions {
  taps: number;
  index: Int32Array;
  weight: Float64Array;
}

/** Keys' cubic with a = -0.5, written as MATLAB's `cubic` is. */
function cubic(x: number): number {
  const a = Math.abs(x);
  const a2 = a * a;
  const a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

/** MATLAB's `contributions` (imresize.m), with 0-based indices. */
function contributions(inLen: number, outLen: number, scale: number, antialiasing: boolean, replicate: boolean): Contributions {
  const widen = scale < 1 && antialiasing;
  const kernelWidth = widen ? 4 / scale : 4;
  const p = Math.ceil(kernelWidth) + 2;
  const index = new Int32Array(outLen * p);
  const weight = new Float64Array(outLen * p);
  const period = 2 * inLen;
  for (let x = 1; x <= outLen; x++) {
    const u = x / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - kernelWidth / 2);
    const row = (x - 1) * p;
    let sum = 0;
    for (let k = 0; k < p; k++) {
      const d = u - (left + k);
      const w = widen ? scale * cubic(scale * d) : cubic(d);
      weight[row + k] = w;
      sum += w;
      // i is 0-based; symmetric mirrors it over [0..n-1, n-1..0], imresize.m's aux = [1:n, n:-1:1].
      const i = left + k - 1;
      const m = ((i % period) + period) % period;
      index[row + k] = replicate ? Math.min(Math.max(i, 0), inLen - 1) : m < inLen ? m : period - 1 - m;
    }
    for (let k = 0; k < p; k++) weight[row + k] = weight[row + k]! / sum;
  }
  return dropZeroColumns({ taps: p, index, weight }, outLen);
}

/** MATLAB drops tap columns whose weight is zero for every output pixel. */
function dropZeroColumns(c: Contributions, outLen: number): Contributions {
  const keep: number[] = [];
  for (let k = 0; k < c.taps; k++) {
    let any = false;
    for (let x = 0; x < outLen && !any; x++) any = c.weight[x * c.taps + k] !== 0;
    if (any) keep.push(k);
  }
  if (keep.length === c.taps) return c;
  const taps = keep.length;
  const index = new Int32Array(outLen * taps);
  const weight = new Float64Array(outLen * taps);
  for (let x = 0; x < outLen; x++) {
    keep.forEach((k, j) => {
      index[x * taps + j] = c.index[x * c.taps + k]!;
      weight[x * taps + j] = c.weight[x * c.taps + k]!;
    });
  }
  return { taps, index, weight };
}

type Plane = Float32Array | Float64Array;

/** Resamples along height: C x H x W -> C x outH x W. Whole rows at a time (contiguous). */
function resizeRows(src: Plane, channels: number, height: number, width: number, c: Contributions, outH: number): Float64Array {
  const out = new Float64Array(channels * outH * width);
  const { taps, index, weight } = c;
  for (let ch = 0; ch < channels; ch++) {
    const inBase = ch * height * width;
    for (let y = 0; y < outH; y++) {
      const o = (ch * outH + y) * width;
      for (let k = 0; k < taps; k++) {
        const w = weight[y * taps + k]!;
        if (w === 0) continue;
        const s = inBase + index[y * taps + k]! * width;
        for (let x = 0; x < width; x++) out[o + x] = out[o + x]! + w * src[s + x]!;
      }
    }
  }
  return out;
}

/** Resamples along width: C x H x W -> C x H x outW. */
function resizeColumns(src: Plane, channels: number, height: number, width: number, c: Contributions, outW: number): Float64Array {
  const out = new Float64Array(channels * height * outW);
  const { taps, index, weight } = c;
  for (let r = 0; r < channels * height; r++) {
    const s = r * width;
    const o = r * outW;
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (let k = 0, t = x * taps; k < taps; k++, t++) acc += weight[t]! * src[s + index[t]!]!;
      out[o + x] = acc;
    }
  }
  return out;
}

/** In place: clamp to [0, 255] and round half up, MATLAB's conversion to uint8. */
function roundUint8(a: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    a[i] = v > 0 ? (v < 255 ? Math.round(v) : 255) : 0;
  }
  return a;
}

/** Float32 [0, 1] values on the 0..255 scale, in float64. */
function to255(src: Float32Array): Float64Array {
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! * 255;
  return out;
}

function from255(src: Float64Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! / 255;
  return out;
}

function resize(img: PlanarImage, outW: number, outH: number, scaleW: number, scaleH: number, opts: ResizeOptions): PlanarImage {
  const antialiasing = opts.antialiasing ?? true;
  const replicate = (opts.edge ?? 'replicate') === 'replicate';
  const { channels, width, height } = img;
  const rows = contributions(height, outH, scaleH, antialiasing, replicate);
  const cols = contributions(width, outW, scaleW, antialiasing, replicate);
  // uint8 mode works in 0..255 units so that MATLAB's rounding ties fall the same way.
  const src: Plane = opts.uint8 ? roundUint8(to255(img.data)) : img.data;
  const between = opts.uint8 ? roundUint8 : (a: Float64Array) => a;
  const out =
    scaleH <= scaleW
      ? resizeColumns(between(resizeRows(src, channels, height, width, rows, outH)), channels, outH, width, cols, outW)
      : resizeRows(between(resizeColumns(src, channels, height, width, cols, outW)), channels, height, outW, rows, outH);
  const data = opts.uint8 ? from255(roundUint8(out)) : new Float32Array(out);
  return { width: outW, height: outH, channels, data };
}

/**
 * `imresize(img, scale, 'bicubic')`: output size ceil(size * scale) in each dimension
 * (e.g. 0.5 for x2 down, 1/3 for x3 down, 2 for x2 up).
 */
export function imresizeBicubic(img: PlanarImage, scale: number, opts: ResizeOptions = {}): PlanarImage {
  assertPlanar(img, 'imresizeBicubic: img');
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`imresizeBicubic: scale must be a positive number, got ${scale}`);
  const outW = Math.ceil(img.width * scale);
  const outH = Math.ceil(img.height * scale);
  return resize(img, outW, outH, scale, scale, opts);
}

/** `imresize(img, [height width], 'bicubic')`: per-dimension scale = out / in, as MATLAB uses. */
export function imresizeBicubicTo(img: PlanarImage, width: number, height: number, opts: ResizeOptions = {}): PlanarImage {
  assertPlanar(img, 'imresizeBicubicTo: img');
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`imresizeBicubicTo: ${name} must be a positive integer, got ${v}`);
  }
  return resize(img, width, height, width / img.width, height / img.height, opts);
}
