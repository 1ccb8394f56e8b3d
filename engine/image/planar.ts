/**
 * The engine's image type: CHW planar float32 with values nominally in [0, 1], so that
 * `data` can back a 1xCxHxW ONNX tensor without a copy. Values outside [0, 1] are kept
 * (resampling overshoots) until the image is quantised.
 */
export interface PlanarImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** An interleaved HWC pixel buffer, as sharp's `.raw()` output gives it. */
export interface InterleavedImage<T extends Uint8Array | Uint16Array = Uint8Array | Uint16Array> {
  width: number;
  height: number;
  channels: number;
  data: T;
}

function checkDims(where: string, width: number, height: number, channels: number): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
    ['channels', channels],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${where}: ${name} must be a positive integer, got ${v}`);
  }
}

export function createPlanar(width: number, height: number, channels: number): PlanarImage {
  checkDims('createPlanar', width, height, channels);
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

/** Checks that `img.data` holds exactly width*height*channels values. */
export function assertPlanar(img: PlanarImage, what = 'image'): void {
  checkDims(what, img.width, img.height, img.channels);
  if (!(img.data instanceof Float32Array)) throw new TypeError(`${what}: data must be a Float32Array`);
  const n = img.width * img.height * img.channels;
  if (img.data.length !== n) {
    throw new RangeError(`${what}: data has ${img.data.length} values, ${img.width}x${img.height}x${img.channels} needs ${n}`);
  }
}

/** Interleaved uint8 (divided by 255) or uint16 (divided by 65535) HWC pixels to planar [0, 1]. */
export function planarFromInterleaved(src: InterleavedImage): PlanarImage {
  const { width, height, channels, data } = src;
  checkDims('planarFromInterleaved', width, height, channels);
  const n = width * height;
  if (data.length !== n * channels) {
    throw new RangeError(`planarFromInterleaved: data has ${data.length} values, ${width}x${height}x${channels} needs ${n * channels}`);
  }
  const max = data instanceof Uint16Array ? 65535 : 255;
  const out = new Float32Array(n * channels);
  for (let c = 0; c < channels; c++) {
    const plane = c * n;
    for (let i = 0, j = c; i < n; i++, j += channels) out[plane + i] = data[j]! / max;
  }
  return { width, height, channels, data: out };
}

function quantise<T extends Uint8Array | Uint16Array>(img: PlanarImage, out: T, max: number): InterleavedImage<T> {
  assertPlanar(img);
  const { width, height, channels, data } = img;
  const n = width * height;
  for (let c = 0; c < channels; c++) {
    const plane = c * n;
    for (let i = 0, j = c; i < n; i++, j += channels) {
      const v = data[plane + i]!;
      // Clamp first, then round half up (MATLAB's im2uint8 rounding for non-negative values); NaN -> 0.
      out[j] = v > 0 ? (v < 1 ? Math.round(v * max) : max) : 0;
    }
  }
  return { width, height, channels, data: out };
}

/** Planar [0, 1] to interleaved uint8 HWC, clamped to [0, 1] and rounded. */
export function planarToUint8(img: PlanarImage): InterleavedImage<Uint8Array> {
  return quantise(img, new Uint8Array(img.width * img.height * img.channels), 255);
}

/** Planar [0, 1] to interleaved uint16 HWC, clamped to [0, 1] and rounded. */
export function planarToUint16(img: PlanarImage): InterleavedImage<Uint16Array> {
  return quantise(img, new Uint16Array(img.width * img.height * img.channels), 65535);
}

/** A copy with every value clamped to [0, 1] and rounded to the nearest multiple of 1/255. */
export function quantisePlanarUint8(img: PlanarImage): PlanarImage {
  return planarFromInterleaved(planarToUint8(img));
}

/** Grey (1 channel) to RGB by repeating the plane; RGB is returned as is; other counts throw. */
export function toRgb(img: PlanarImage): PlanarImage {
  assertPlanar(img);
  if (img.channels === 3) return img;
  if (img.channels !== 1) throw new RangeError(`toRgb: expected 1 or 3 channels, got ${img.channels}`);
  const n = img.width * img.height;
  const data = new Float32Array(3 * n);
  data.set(img.data, 0);
  data.set(img.data, n);
  data.set(img.data, 2 * n);
  return { width: img.width, height: img.height, channels: 3, data };
}
