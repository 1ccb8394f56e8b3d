import sharp, { type Sharp } from 'sharp';
import { decodeRegion, MAX_INPUT_PIXELS } from '../image/decode';
import { interleavePlanes } from '../image/interleave';
import type { PlanarImage } from '../image/planar';
import { imresizeBicubic } from '../image/resize';
import { ValidationError } from './schema';
import type { ImageRef, ImageRegionQuery } from './types';

/**
 * Pixels for the compare view: one rectangle of an image (in the image's own pixels), scaled
 * down to `maxSide`, encoded as WebP or PNG. With `resample` the rectangle of the *original* is
 * upscaled first, MATLAB-bicubic (the paper's baseline) or nearest, so the left pane lines up
 * with the model outputs pixel for pixel.
 */

/** Longest side ever returned, whatever the query asks: bounds the work one request can cause. */
export const MAX_REGION_SIDE = 8192;
/** Context decoded around a resampled region so its edges see real neighbours. */
const MARGIN = 4;

export interface RenderedRegion {
  readonly data: Buffer;
  readonly mime: 'image/webp' | 'image/png';
  readonly width: number;
  readonly height: number;
}

function clampRegion(ref: ImageRef, q: ImageRegionQuery) {
  const left = q.left ?? 0;
  const top = q.top ?? 0;
  if (left >= ref.width || top >= ref.height)
    throw new ValidationError('query.left', `region starts outside the ${ref.width}x${ref.height} image`);
  const width = Math.min(q.width ?? ref.width - left, ref.width - left);
  const height = Math.min(q.height ?? ref.height - top, ref.height - top);
  return { left, top, width, height };
}

function crop(img: PlanarImage, left: number, top: number, width: number, height: number): PlanarImage {
  const out = new Float32Array(img.channels * width * height);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const s = (c * img.height + top + y) * img.width + left;
      out.set(img.data.subarray(s, s + width), (c * height + y) * width);
    }
  }
  return { width, height, channels: img.channels, data: out };
}

async function resampled(
  path: string,
  ref: ImageRef,
  r: ReturnType<typeof clampRegion>,
  scale: number,
  kernel: 'bicubic' | 'nearest',
): Promise<Sharp> {
  if (r.width * scale * r.height * scale > 64e6)
    throw new ValidationError('query.width', `a resampled region is limited to 64 megapixels; ask for a smaller region`);
  if (kernel === 'nearest') {
    const up = sharp(path, { limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .extract(r)
      .resize(r.width * scale, r.height * scale, { kernel: 'nearest' });
    const { data, info } = await up.raw().toBuffer({ resolveWithObject: true });
    return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  }
  const ex = {
    left: Math.max(0, r.left - MARGIN),
    top: Math.max(0, r.top - MARGIN),
    right: Math.min(ref.width, r.left + r.width + MARGIN),
    bottom: Math.min(ref.height, r.top + r.height + MARGIN),
  };
  const dec = await decodeRegion(path, { left: ex.left, top: ex.top, width: ex.right - ex.left, height: ex.bottom - ex.top });
  const cut = (p: PlanarImage) =>
    crop(imresizeBicubic(p, scale), (r.left - ex.left) * scale, (r.top - ex.top) * scale, r.width * scale, r.height * scale);
  const rgb = cut(dec.rgb);
  const alpha = dec.alpha ? cut(dec.alpha) : undefined;
  const pixels = interleavePlanes(rgb, alpha, 8);
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width: rgb.width, height: rgb.height, channels: alpha ? 4 : 3 },
  });
}

export async function renderRegion(path: string, ref: ImageRef, q: ImageRegionQuery): Promise<RenderedRegion> {
  const r = clampRegion(ref, q);
  const scale = q.resample?.scale ?? 1;
  let img = q.resample
    ? await resampled(path, ref, r, scale, q.resample.kernel)
    : sharp(path, { limitInputPixels: MAX_INPUT_PIXELS }).rotate().extract(r);
  const side = Math.min(q.maxSide ?? MAX_REGION_SIDE, MAX_REGION_SIDE);
  img = img.resize(side, side, { fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' });
  const format = q.format ?? 'webp';
  const out = format === 'png' ? img.png({ compressionLevel: 3 }) : img.webp({ quality: 90, alphaQuality: 100 });
  const { data, info } = await out.toBuffer({ resolveWithObject: true });
  return { data, mime: format === 'png' ? 'image/png' : 'image/webp', width: info.width, height: info.height };
}
