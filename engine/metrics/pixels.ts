/**
 * Brings metric inputs to the SR evaluation protocol: 8-bit RGB (planar floats are clamped to
 * [0, 1] and rounded to uint8 first), border crop, and the Y channel of MATLAB's rgb2ycbcr.
 */
import { planarToUint8, type InterleavedImage, type PlanarImage } from '../image/planar';

/** Interleaved uint8 HWC pixels (sharp raw output) or a planar float image. 1 or 3 channels. */
export type MetricImage = InterleavedImage<Uint8Array> | PlanarImage;

/** One float64 plane, values on the 0..255 scale. */
export interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

export interface CropOptions {
  /** Pixels dropped from each border before measuring (the SR scale factor). Default 0. */
  crop?: number;
}

/** The image as interleaved uint8, quantising planar floats; checks sizes and channel count. */
export function toUint8(img: MetricImage, what: string): InterleavedImage<Uint8Array> {
  const px = img.data instanceof Float32Array ? planarToUint8(img as PlanarImage) : img;
  if (!(px.data instanceof Uint8Array)) throw new TypeError(`${what}: data must be a Uint8Array (interleaved) or Float32Array (planar)`);
  if (px.channels !== 1 && px.channels !== 3) throw new RangeError(`${what}: expected 1 or 3 channels, got ${px.channels}`);
  if (px.data.length !== px.width * px.height * px.channels) {
    throw new RangeError(
      `${what}: data has ${px.data.length} values, ${px.width}x${px.height}x${px.channels} needs ${px.width * px.height * px.channels}`,
    );
  }
  return px as InterleavedImage<Uint8Array>;
}

/** Both images as uint8, same size and channels, and the crop validated against `minSide`. */
export function preparePair(a: MetricImage, b: MetricImage, crop: number, minSide: number) {
  const x = toUint8(a, 'first image');
  const y = toUint8(b, 'second image');
  if (x.width !== y.width || x.height !== y.height || x.channels !== y.channels) {
    throw new RangeError(`images differ in shape: ${x.width}x${x.height}x${x.channels} vs ${y.width}x${y.height}x${y.channels}`);
  }
  if (!Number.isInteger(crop) || crop < 0) throw new RangeError(`crop must be a non-negative integer, got ${crop}`);
  if (Math.min(x.width, x.height) - 2 * crop < minSide) {
    throw new RangeError(`crop ${crop} leaves less than ${minSide} pixels of a ${x.width}x${x.height} image`);
  }
  return [x, y] as const;
}

/** Y of MATLAB rgb2ycbcr on the cropped image, 0..255 scale: 16 + (65.481 R + 128.553 G + 24.966 B) / 255. */
export function lumaY(px: InterleavedImage<Uint8Array>, crop: number): Plane {
  const width = px.width - 2 * crop;
  const height = px.height - 2 * crop;
  const data = new Float64Array(width * height);
  const c = px.channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = ((y + crop) * px.width + x + crop) * c;
      // Grey pixels count as R = G = B, as when a grey PNG is read as RGB.
      const r = px.data[s]! / 255;
      const g = c === 3 ? px.data[s + 1]! / 255 : r;
      const b = c === 3 ? px.data[s + 2]! / 255 : r;
      data[y * width + x] = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
    }
  }
  return { width, height, data };
}
