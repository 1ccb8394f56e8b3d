/**
 * SSIM as the SR community computes it (Wang et al.'s MATLAB ssim_index, BasicSR `_ssim`):
 * 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03, L 255, 'valid' filtering, mean of the map.
 * The window is separable, so it is applied as two 11-tap passes in float64.
 */
import { lumaY, preparePair, type CropOptions, type MetricImage, type Plane } from './pixels';

const RADIUS = 5;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

function gaussian1d(sigma: number): Float64Array {
  const g = new Float64Array(2 * RADIUS + 1);
  let sum = 0;
  for (let i = 0; i < g.length; i++) sum += g[i] = Math.exp(-((i - RADIUS) ** 2) / (2 * sigma * sigma));
  return g.map((v) => v / sum);
}

const WINDOW = gaussian1d(1.5);

/**
 * Mean SSIM of two same-size planes on the 0..255 scale. One horizontal pass produces the five
 * window sums (x, y, x², y², xy) per row; the vertical pass then finishes each output row and
 * folds it into the mean, so no full-size maps beyond the five row-filtered planes are kept.
 */
export function ssimPlane(a: Plane, b: Plane): number {
  const { width: w, height: h } = a;
  const taps = WINDOW.length;
  if (b.width !== w || b.height !== h) throw new RangeError(`ssimPlane: planes differ in size: ${w}x${h} vs ${b.width}x${b.height}`);
  if (w < taps || h < taps) throw new RangeError(`ssimPlane: ${w}x${h} is smaller than the 11x11 window`);
  const ow = w - taps + 1;
  const oh = h - taps + 1;
  const [hx, hy, hxx, hyy, hxy] = Array.from({ length: 5 }, () => new Float64Array(h * ow)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const x = a.data;
  const y = b.data;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < ow; c++) {
      let sx = 0,
        sy = 0,
        sxx = 0,
        syy = 0,
        sxy = 0;
      for (let k = 0, i = r * w + c; k < taps; k++, i++) {
        const g = WINDOW[k]!;
        const p = x[i]!;
        const q = y[i]!;
        sx += g * p;
        sy += g * q;
        sxx += g * p * p;
        syy += g * q * q;
        sxy += g * p * q;
      }
      const o = r * ow + c;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  let sum = 0;
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let m1 = 0,
        m2 = 0,
        e11 = 0,
        e22 = 0,
        e12 = 0;
      for (let k = 0, i = r * ow + c; k < taps; k++, i += ow) {
        const g = WINDOW[k]!;
        m1 += g * hx[i]!;
        m2 += g * hy[i]!;
        e11 += g * hxx[i]!;
        e22 += g * hyy[i]!;
        e12 += g * hxy[i]!;
      }
      const m11 = m1 * m1;
      const m22 = m2 * m2;
      const m12 = m1 * m2;
      sum += ((2 * m12 + C1) * (2 * (e12 - m12) + C2)) / ((m11 + m22 + C1) * (e11 - m11 + (e22 - m22) + C2));
    }
  }
  return sum / (ow * oh);
}

/** SSIM on the Y channel of MATLAB rgb2ycbcr, after cropping `crop` pixels from each border. */
export function ssimY(a: MetricImage, b: MetricImage, opts: CropOptions = {}): number {
  const crop = opts.crop ?? 0;
  const [x, y] = preparePair(a, b, crop, WINDOW.length);
  return ssimPlane(lumaY(x, crop), lumaY(y, crop));
}
