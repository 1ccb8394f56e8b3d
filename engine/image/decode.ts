import { open, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { ImageDecodeError } from './errors';
import { isRgbIcc } from './metadata';
import { planarFromInterleaved, type PlanarImage } from './planar';
import { sniffImageFormat } from './sniff';

/**
 * Largest input accepted: 40000 x 40000 pixels. Well above any photo, but bounded, so a forged
 * header cannot make libvips try to allocate terabytes. Full decodes of such images need a lot
 * of memory (float32 RGB: 12 bytes a pixel); tilers use `decodeRegion`.
 */
export const MAX_INPUT_PIXELS = 40000 * 40000;

export type ImageInput = string | Buffer;

export interface DecodeOptions {
  /** Deliver 16-bit sources (PNG, TIFF) at 16 bits instead of reducing them to 8. */
  keep16bit?: boolean;
  /** Name used in error messages for Buffer input (paths name themselves). */
  name?: string;
}

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** What `probeImage` learns from the header alone. */
export interface ImageInfo {
  /** Upright size, after the EXIF orientation is applied. */
  width: number;
  height: number;
  /** Size as stored in the file (differs from width/height for orientations 5..8). */
  storedWidth: number;
  storedHeight: number;
  /** Decoder name: jpeg, png, webp, tiff, avif, heif, gif, svg, ... */
  format: string;
  /** Channels as stored, alpha included (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK). */
  channels: number;
  hasAlpha: boolean;
  /** 16 for 16-bit-per-channel sources, else 8. */
  bitDepth: 8 | 16;
  /** EXIF orientation (1..8); 1 when absent. */
  orientation: number;
  /** libvips colour space of the stored pixels: srgb, b-w, cmyk, rgb16, grey16, ... */
  sourceSpace: string;
  hasIccProfile: boolean;
  /** Frames/pages in the file (animated GIF/WebP, multi-page TIFF); only the first is decoded. */
  pages: number;
}

export interface DecodedImage {
  /**
   * Upright RGB, 3 planes, [0, 1]. Grey sources are repeated into all three planes. `rgb.data`
   * and `alpha.data` are views into one ArrayBuffer (use the views, not `.buffer`).
   */
  rgb: PlanarImage;
  /** Alpha as its own plane, [0, 1], when the source has one. */
  alpha?: PlanarImage;
  width: number;
  height: number;
  format: string;
  bitDepth: 8 | 16;
  hasAlpha: boolean;
  /** Channels in the source (1 for grey: the caller may write grey output again). */
  sourceChannels: number;
  sourceSpace: string;
  /**
   * The RGB ICC profile the `rgb` values are in (pixels are left in that space, not converted).
   * Undefined when the pixels are sRGB: untagged sources, and CMYK/grey sources, whose profile
   * was used to convert them to sRGB.
   */
  iccProfile?: Buffer;
  /** The source's EXIF as stored (its Orientation still says how the file was stored). */
  exif?: Buffer;
  xmp?: Buffer;
  density?: number;
  /** True when the EXIF orientation was not 1 and the pixels were rotated/flipped upright. */
  orientationApplied: boolean;
  /** The path decoded, so the encoder can refuse to overwrite it. */
  sourcePath?: string;
}

function inputName(input: ImageInput, opts?: DecodeOptions): string {
  return typeof input === 'string' ? input : (opts?.name ?? '<buffer>');
}

function sharpFor(input: ImageInput): Sharp {
  return sharp(input, {
    failOn: 'error', // truncated or corrupt pixel data throws; harmless warnings do not
    limitInputPixels: MAX_INPUT_PIXELS,
    autoOrient: true,
    page: 0,
    pages: 1,
  });
}

async function readHead(input: ImageInput): Promise<Buffer> {
  if (typeof input !== 'string') return input.subarray(0, 32);
  const fh = await open(input, 'r');
  try {
    const buf = Buffer.alloc(32);
    const { bytesRead } = await fh.read(buf, 0, 32, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Turns a libvips/sharp failure into an ImageDecodeError with a distinct code. */
async function classify(err: unknown, input: ImageInput, name: string): Promise<ImageDecodeError> {
  if (err instanceof ImageDecodeError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) {
    const known = sniffImageFormat(await readHead(input).catch(() => Buffer.alloc(0)));
    return known
      ? new ImageDecodeError('unsupported-format', name, `${known} images cannot be read by this build (libvips ${sharp.versions.vips})`, {
          cause: err,
        })
      : new ImageDecodeError('not-an-image', name, 'not an image file (content matches no readable image format)', { cause: err });
  }
  if (/pixel limit/i.test(msg)) {
    return new ImageDecodeError('too-large', name, `image is larger than the ${MAX_INPUT_PIXELS} pixel limit`, { cause: err });
  }
  if (/Input file is missing/i.test(msg)) return new ImageDecodeError('not-found', name, 'file not found', { cause: err });
  return new ImageDecodeError('corrupt', name, `image data is truncated or corrupt (${msg.trim().split('\n')[0]})`, { cause: err });
}

/** Checks that don't need libvips: existence, directory, empty. */
async function precheck(input: ImageInput, name: string): Promise<void> {
  if (typeof input !== 'string') {
    if (input.length === 0) throw new ImageDecodeError('empty', name, 'buffer is empty (0 bytes)');
    return;
  }
  let st;
  try {
    st = await stat(input);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ImageDecodeError('not-found', name, 'file not found', { cause: err });
    throw new ImageDecodeError('not-found', name, `cannot access file (${code ?? String(err)})`, { cause: err });
  }
  if (st.isDirectory()) throw new ImageDecodeError('is-directory', name, 'is a directory, not an image file');
  if (st.size === 0) throw new ImageDecodeError('empty', name, 'file is empty (0 bytes)');
}

async function readMetadata(input: ImageInput, name: string): Promise<Metadata> {
  await precheck(input, name);
  try {
    return await sharpFor(input).metadata();
  } catch (err) {
    throw await classify(err, input, name);
  }
}

function formatName(meta: Metadata): string {
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : 'heif';
  return meta.format;
}

function infoFrom(meta: Metadata): ImageInfo {
  return {
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    storedWidth: meta.width,
    storedHeight: meta.height,
    format: formatName(meta),
    channels: meta.channels,
    hasAlpha: meta.hasAlpha,
    bitDepth: meta.depth === 'ushort' ? 16 : 8,
    orientation: meta.orientation ?? 1,
    sourceSpace: meta.space,
    hasIccProfile: meta.hasProfile,
    pages: meta.pages ?? 1,
  };
}

/** Header-only look at an image: no pixels are decoded. */
export async function probeImage(input: ImageInput, opts?: DecodeOptions): Promise<ImageInfo> {
  return infoFrom(await readMetadata(input, inputName(input, opts)));
}

function checkRegion(r: Region, info: ImageInfo, name: string): void {
  const ints = [r.left, r.top, r.width, r.height].every((v) => Number.isInteger(v));
  if (!ints || r.left < 0 || r.top < 0 || r.width < 1 || r.height < 1 || r.left + r.width > info.width || r.top + r.height > info.height) {
    throw new ImageDecodeError(
      'bad-region',
      name,
      `region ${r.width}x${r.height}+${r.left}+${r.top} is not inside the ${info.width}x${info.height} image`,
    );
  }
}

async function decode(input: ImageInput, opts: DecodeOptions | undefined, region: Region | undefined): Promise<DecodedImage> {
  const name = inputName(input, opts);
  const meta = await readMetadata(input, name);
  const info = infoFrom(meta);
  if (region) checkRegion(region, info, name);
  if (meta.format === 'heif' && meta.compression === 'hevc') {
    // The prebuilt libheif has no HEVC decoder (patents); the header reads, the pixels would not.
    throw new ImageDecodeError('unsupported-format', name, `HEIC (HEVC-coded HEIF) images cannot be read by this build`);
  }

  // Pixels stay in an RGB source profile (re-attached on output); CMYK/grey profiles are used
  // by libvips to convert to sRGB, as is CMYK without a profile (its built-in CMYK profile).
  const keepProfile = meta.space !== 'cmyk' && isRgbIcc(meta.icc);
  const sixteen = opts?.keep16bit === true && info.bitDepth === 16;

  let pipeline = sharpFor(input);
  if (region) pipeline = pipeline.extract(region);
  if (keepProfile) pipeline = pipeline.keepIccProfile();
  pipeline = pipeline.toColourspace(sixteen ? 'rgb16' : 'srgb').raw({ depth: sixteen ? 'ushort' : 'uchar' });

  let data: Buffer;
  let out: OutputInfo;
  try {
    ({ data, info: out } = await pipeline.toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw await classify(err, input, name);
  }
  if (out.channels !== 3 && out.channels !== 4) {
    throw new ImageDecodeError('unsupported-format', name, `decoded to ${out.channels} channels; expected RGB or RGBA`);
  }
  const pixels = sixteen ? uint16View(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const all = planarFromInterleaved({ width: out.width, height: out.height, channels: out.channels, data: pixels });
  const n = out.width * out.height;
  // Planes are contiguous, so rgb and alpha are views into one buffer: no copy.
  const rgb: PlanarImage = { width: out.width, height: out.height, channels: 3, data: all.data.subarray(0, 3 * n) };
  const alpha: PlanarImage | undefined =
    out.channels === 4 ? { width: out.width, height: out.height, channels: 1, data: all.data.subarray(3 * n, 4 * n) } : undefined;

  const result: DecodedImage = {
    rgb,
    width: out.width,
    height: out.height,
    format: info.format,
    bitDepth: sixteen ? 16 : 8,
    hasAlpha: alpha !== undefined,
    sourceChannels: meta.channels,
    sourceSpace: meta.space,
    orientationApplied: info.orientation !== 1,
  };
  if (alpha) result.alpha = alpha;
  if (keepProfile && meta.icc) result.iccProfile = meta.icc;
  if (meta.exif) result.exif = meta.exif;
  if (meta.xmp) result.xmp = meta.xmp;
  if (meta.density !== undefined) result.density = meta.density;
  if (typeof input === 'string') result.sourcePath = input;
  return result;
}

/** 16-bit samples as a Uint16Array (native byte order, as libvips writes them). */
function uint16View(buf: Buffer): Uint16Array {
  if (buf.byteOffset % 2 === 0) return new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
  return new Uint16Array(Uint8Array.prototype.slice.call(buf).buffer); // unaligned: copy once
}

/** Decodes the first frame of an image, upright, as RGB planes plus an optional alpha plane. */
export function decodeImage(input: ImageInput, opts?: DecodeOptions): Promise<DecodedImage> {
  return decode(input, opts, undefined);
}

/**
 * Decodes one rectangle (in upright coordinates) of an image. libvips streams the rows it needs,
 * so for PNG/JPEG/WebP/untiled TIFF memory stays proportional to the region's width, not the
 * image's area; EXIF-rotated (orientation 5..8) sources need the whole image to rotate it.
 */
export function decodeRegion(input: ImageInput, region: Region, opts?: DecodeOptions): Promise<DecodedImage> {
  return decode(input, opts, region);
}
