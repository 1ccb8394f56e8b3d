import { assertPlanar, type PlanarImage } from './planar';

/**
 * Quantises RGB planes plus an optional alpha plane straight into one interleaved HWC buffer
 * (RGB or RGBA), without first joining the planes into a 4-channel float copy. Rounding matches
 * planar.ts: clamp to [0, 1], round half up, NaN -> 0.
 */
export function interleavePlanes(rgb: PlanarImage, alpha: PlanarImage | undefined, bitDepth: 8 | 16): Uint8Array | Uint16Array {
  assertPlanar(rgb, 'rgb');
  if (rgb.channels !== 3) throw new RangeError(`rgb: expected 3 channels, got ${rgb.channels}`);
  if (alpha) {
    assertPlanar(alpha, 'alpha');
    if (alpha.channels !== 1) throw new RangeError(`alpha: expected 1 channel, got ${alpha.channels}`);
    if (alpha.width !== rgb.width || alpha.height !== rgb.height) {
      throw new RangeError(`alpha: size ${alpha.width}x${alpha.height} differs from rgb ${rgb.width}x${rgb.height}`);
    }
  }
  const n = rgb.width * rgb.height;
  const channels = alpha ? 4 : 3;
  const max = bitDepth === 16 ? 65535 : 255;
  const out = bitDepth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  const put = (src: Float32Array, offset: number, c: number) => {
    for (let i = 0, j = c; i < n; i++, j += channels) {
      const v = src[offset + i]!;
      out[j] = v > 0 ? (v < 1 ? Math.round(v * max) : max) : 0;
    }
  };
  for (let c = 0; c < 3; c++) put(rgb.data, c * n, c);
  if (alpha) put(alpha.data, 0, 3);
  return out;
}
