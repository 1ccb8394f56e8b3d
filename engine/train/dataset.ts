import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage } from '../image/decode';
import { READABLE_EXTENSIONS } from '../image/formats';
import { listImages, pairFolder } from '../image/pairs';
import type { PlanarImage } from '../image/planar';
import { imresizeBicubic, SR_BENCHMARK_LR } from '../image/resize';
import type { TrainImage } from './crops';

/**
 * Training and validation images, decoded once. HR folders get their LR by MATLAB-compatible
 * bicubic (the way the benchmark LR images were made); paired folders (`NNN_HR.png` +
 * `NNN_LR.png`, the Set5/Set14 layout) are used as they are. Pixels are kept as planar uint8
 * in SharedArrayBuffers (a worker reads them without a copy); decoded+downscaled images are
 * cached on disk keyed by file path, size, mtime and scale, so later runs start in seconds.
 */

const CACHE_VERSION = 'hrlr-v1';
const MAGIC = 0x4352534d; // 'MSRC'

export interface LoadOptions {
  scale: number;
  /** Folder for decoded-image caches; absent: no disk cache. */
  cacheDir?: string;
  /** Use only the first `limit` images (sorted by name). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

function toPlanarUint8(img: PlanarImage): Uint8Array {
  const out = sharedBytes(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]!;
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}

/** Planar uint8 back to the engine's float image. */
export function planarFromUint8(data: Uint8Array, width: number, height: number): PlanarImage {
  return { width, height, channels: 3, data: Float32Array.from(data, (v) => v / 255) };
}

/** Crops CHW planes to the top-left `width` x `height` (MATLAB's modcrop keeps the top-left). */
function cropPlanar(img: PlanarImage, width: number, height: number): PlanarImage {
  if (width === img.width && height === img.height) return img;
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const src = (c * img.height + y) * img.width;
      out.set(img.data.subarray(src, src + width), (c * height + y) * width);
    }
  }
  return { width, height, channels: 3, data: out };
}

async function cacheKey(file: string, scale: number): Promise<string> {
  const st = await stat(file);
  return createHash('sha256')
    .update(JSON.stringify([CACHE_VERSION, path.resolve(file), st.size, st.mtimeMs, scale]))
    .digest('hex')
    .slice(0, 32);
}

function encodeCached(im: TrainImage, scale: number): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(im.width, 4);
  head.writeUInt32LE(im.height, 8);
  head.writeUInt32LE(scale, 12);
  return Buffer.concat([head, im.lr, im.hr]);
}

function decodeCached(buf: Buffer, name: string, scale: number): TrainImage | undefined {
  if (buf.length < 16 || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(12) !== scale) return undefined;
  const width = buf.readUInt32LE(4);
  const height = buf.readUInt32LE(8);
  const nLr = 3 * width * height;
  if (buf.length !== 16 + nLr * (1 + scale * scale)) return undefined;
  const lr = sharedBytes(nLr);
  const hr = sharedBytes(nLr * scale * scale);
  lr.set(buf.subarray(16, 16 + nLr));
  hr.set(buf.subarray(16 + nLr));
  return { name, width, height, lr, hr };
}

async function writeAtomic(file: string, data: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** HR image -> (LR, HR) pair: HR cropped to a multiple of the scale, LR by MATLAB bicubic. */
export async function hrToPair(file: string, scale: number): Promise<TrainImage> {
  const dec = await decodeImage(file);
  const w = Math.floor(dec.width / scale);
  const h = Math.floor(dec.height / scale);
  if (w < 1 || h < 1) throw new RangeError(`${file}: ${dec.width}x${dec.height} is too small for x${scale}`);
  const hr = cropPlanar(dec.rgb, w * scale, h * scale);
  const lr = imresizeBicubic(hr, 1 / scale, SR_BENCHMARK_LR);
  if (lr.width !== w || lr.height !== h) throw new Error(`${file}: bicubic gave ${lr.width}x${lr.height}, expected ${w}x${h}`);
  return { name: path.basename(file), width: w, height: h, lr: toPlanarUint8(lr), hr: toPlanarUint8(hr) };
}

/** A folder of HR images -> training pairs (LR made by bicubic), cached on disk when `cacheDir` is set. */
export async function loadHrFolder(dir: string, opts: LoadOptions): Promise<TrainImage[]> {
  const { scale } = opts;
  if (!Number.isInteger(scale) || scale < 2) throw new RangeError(`scale must be an integer >= 2, got ${scale}`);
  let files = await listImages(dir);
  if (opts.limit !== undefined) files = files.slice(0, opts.limit);
  if (files.length === 0) throw new Error(`no images in ${dir} (readable: ${READABLE_EXTENSIONS.join(' ')})`);
  const out: TrainImage[] = [];
  for (const file of files) {
    const key = opts.cacheDir ? path.join(opts.cacheDir, CACHE_VERSION, `${await cacheKey(file, scale)}.bin`) : undefined;
    let im = key ? decodeCached(await readFile(key).catch(() => Buffer.alloc(0)), path.basename(file), scale) : undefined;
    if (!im) {
      im = await hrToPair(file, scale);
      if (key) await writeAtomic(key, encodeCached(im, scale));
    }
    out.push(im);
    opts.onProgress?.(out.length, files.length);
  }
  return out;
}

/** A folder of `NAME_HR.ext` + `NAME_LR.ext` pairs (`pairFolder`); its scale is read from the sizes and must be `expectScale` when given. */
export async function loadPairedFolder(dir: string, expectScale?: number): Promise<{ scale: number; images: TrainImage[] }> {
  const { pairs, scale } = await pairFolder(dir);
  if (expectScale !== undefined && scale !== expectScale)
    throw new RangeError(`${dir}: HR/LR pairs are x${scale}, expected x${expectScale}`);
  const images: TrainImage[] = [];
  for (const { name, hr: hrFile, lr: lrFile } of pairs) {
    const [hr, lr] = await Promise.all([decodeImage(hrFile), decodeImage(lrFile)]);
    images.push({ name, width: lr.width, height: lr.height, lr: toPlanarUint8(lr.rgb), hr: toPlanarUint8(hr.rgb) });
  }
  return { scale, images };
}
