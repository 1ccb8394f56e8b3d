import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import type { OutputInfo, Sharp } from 'sharp';
import { ImageEncodeError } from './errors';
import { ALPHA_FORMATS, SIXTEEN_BIT_FORMATS, type OutputFormat } from './formats';
import { interleavePlanes } from './interleave';
import { exifForOutput, isRgbIcc } from './metadata';
import type { PlanarImage } from './planar';
import { writeVipsFile } from './vips-file';

/** Planar RGB (3 planes, [0, 1]) plus an optional alpha plane, e.g. a DecodedImage. */
export interface PlanarSource {
  rgb: PlanarImage;
  alpha?: PlanarImage;
  /** The file these pixels came from; the encoder refuses to replace it. */
  sourcePath?: string;
}

/** Interleaved HWC pixels handed over as they are (no copy): uint8, or native-endian uint16. */
export interface RawPixels {
  raw: Buffer | Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
}

export type EncodeSource = PlanarSource | RawPixels;

export interface EncodeMetadata {
  /**
   * The RGB ICC profile the pixels are in (DecodedImage.iccProfile). With keepMetadata it is
   * attached unchanged; without, the pixels are converted from it to sRGB. Non-RGB profiles
   * are ignored: the encoder always receives RGB or grey pixels.
   */
  icc?: Buffer;
  /** Source EXIF; written with Orientation 1 because the pixels are already upright. */
  exif?: Buffer;
  xmp?: Buffer;
  density?: number;
  /** Attach icc/exif/xmp/density to the output. */
  keepMetadata: boolean;
}

export interface EncodeOptions {
  format: OutputFormat;
  /** 1..100 for JPEG, WebP, AVIF; ignored by PNG and TIFF (lossless deflate). */
  quality?: number;
  /** Output bits per channel; 16 needs PNG or TIFF. Default: the raw input's depth, else 8. */
  bitDepth?: 8 | 16;
  /** WebP/AVIF lossless mode. */
  lossless?: boolean;
  /** JPEG: use mozjpeg's settings (smaller files, slower). */
  mozjpeg?: boolean;
  /** Write one grey channel (plus alpha), e.g. for a grey source (DecodedImage.sourceChannels 1/2). */
  grey?: boolean;
  metadata?: EncodeMetadata;
  /** Paths the output must never replace (besides the source's `sourcePath`). */
  inputPaths?: readonly string[];
}

export interface EncodeResult {
  format: OutputFormat;
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  bytes: number;
}

function encodeResult(format: OutputFormat, info: OutputInfo, bitDepth: 8 | 16): EncodeResult {
  return { format, width: info.width, height: info.height, channels: info.channels, bitDepth, bytes: info.size };
}

interface Pixels {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
}

function isRaw(src: EncodeSource): src is RawPixels {
  return 'raw' in src;
}

function toPixels(src: EncodeSource, bitDepth: 8 | 16 | undefined): Pixels {
  if (!isRaw(src)) {
    const depth = bitDepth ?? 8;
    const data = interleavePlanes(src.rgb, src.alpha, depth);
    return { data, width: src.rgb.width, height: src.rgb.height, channels: src.alpha ? 4 : 3, bitDepth: depth };
  }
  const { raw, width, height, channels } = src;
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`raw.${k} must be a positive integer, got ${v}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`raw.channels must be 1..4, got ${channels}`);
  let data: Uint8Array | Uint16Array;
  if (src.bitDepth === 16) {
    if (raw instanceof Uint16Array) data = raw;
    else if (raw.byteOffset % 2 === 0 && raw.byteLength % 2 === 0) data = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
    else throw new RangeError('raw: 16-bit pixels must be a Uint16Array or an even-aligned byte buffer');
  } else {
    if (raw instanceof Uint16Array) throw new TypeError('raw: a Uint16Array needs bitDepth 16');
    data = raw;
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`raw: ${data.length} samples, ${width}x${height}x${channels} needs ${width * height * channels}`);
  }
  return { data, width, height, channels, bitDepth: src.bitDepth };
}

/** What picks the encoder and its settings; engine/upscale's file path encodes with the same. */
export type FormatOptions = Pick<EncodeOptions, 'format' | 'quality' | 'lossless' | 'mozjpeg'>;

/** Sets the output format on `s` (JPEG composites alpha onto white). Throws RangeError on a bad quality. */
export function withOutputFormat(s: Sharp, opts: FormatOptions, hasAlpha: boolean): Sharp {
  const q = opts.quality;
  if (q !== undefined && (!Number.isInteger(q) || q < 1 || q > 100)) throw new RangeError(`quality must be an integer 1..100, got ${q}`);
  switch (opts.format) {
    case 'png':
      return s.png({ compressionLevel: 6 });
    case 'jpeg': {
      const quality = q ?? 92;
      // JPEG has no alpha: composite onto white, as viewers show transparent areas.
      const flat = hasAlpha ? s.flatten({ background: '#ffffff' }) : s;
      return flat.jpeg({ quality, mozjpeg: opts.mozjpeg ?? false, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' });
    }
    case 'webp':
      return s.webp({ quality: q ?? 90, alphaQuality: 100, lossless: opts.lossless ?? false });
    case 'avif':
      return s.avif({ quality: q ?? 70, lossless: opts.lossless ?? false, effort: 4 });
    case 'tiff':
      return s.tiff({ compression: 'deflate', predictor: 'horizontal' });
    default:
      throw new RangeError(`unknown output format '${String(opts.format)}'`);
  }
}

/** Builds the sharp pipeline; metadata blobs travel through a temporary `.v` file in `scratchDir`. */
async function pipelineFor(px: Pixels, opts: EncodeOptions, scratchDir: string): Promise<{ s: Sharp; carrier?: string; outDepth: 8 | 16 }> {
  const outDepth = opts.bitDepth ?? px.bitDepth;
  if (outDepth === 16 && !SIXTEEN_BIT_FORMATS.has(opts.format)) {
    throw new RangeError(`16-bit output needs png or tiff, not ${opts.format}`);
  }
  const m = opts.metadata;
  const keep = m?.keepMetadata === true;
  const icc = m?.icc && px.channels >= 3 && opts.grey !== true && isRgbIcc(m.icc) ? m.icc : undefined;
  const exif = keep && m?.exif ? exifForOutput(m.exif, 1) : undefined;
  const xmp = keep ? m?.xmp : undefined;

  let s: Sharp;
  let carrier: string | undefined;
  if (icc || exif || xmp) {
    carrier = join(scratchDir, `.minisr-${process.pid}-${randomBytes(6).toString('hex')}.v`);
    await writeVipsFile(carrier, px.data, px.width, px.height, px.channels, {
      ...(icc && { icc }),
      ...(exif && { exif, orientation: 1 }),
      ...(xmp && { xmp }),
    });
    s = sharp(carrier, { limitInputPixels: false });
    if (keep && icc) s = s.keepIccProfile(); // else sharp converts from the profile to sRGB
    if (exif) s = s.keepExif();
    if (xmp) s = s.keepXmp();
  } else {
    s = sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels as 1 | 2 | 3 | 4 }, limitInputPixels: false });
  }
  if (keep && m?.density) s = s.withDensity(m.density);
  const grey = px.channels <= 2 || opts.grey === true;
  if (outDepth === 16) s = s.toColourspace(grey ? 'grey16' : 'rgb16');
  else if (px.bitDepth === 16 || grey) s = s.toColourspace(grey ? 'b-w' : 'srgb');
  const hasAlpha = px.channels === 2 || px.channels === 4;
  if (hasAlpha && !ALPHA_FORMATS.has(opts.format) && opts.format !== 'jpeg') throw new RangeError(`${opts.format} cannot hold alpha`);
  return { s: withOutputFormat(s, opts, hasAlpha), outDepth, ...(carrier && { carrier }) };
}

/** Refuses `out` when it is, or is a link to, one of the input files. */
async function refuseInputs(out: string, inputs: readonly (string | undefined)[]): Promise<void> {
  const outStat = await stat(out).catch(() => undefined);
  for (const input of inputs) {
    if (!input) continue;
    const same = resolve(input) === out;
    const inStat = same || !outStat ? undefined : await stat(input).catch(() => undefined);
    if (same || (inStat && outStat && inStat.dev === outStat.dev && inStat.ino === outStat.ino)) {
      throw new ImageEncodeError(out, `refusing to overwrite the input file ${input}`);
    }
  }
}

/**
 * Encodes to `outPath` atomically: the image is written to a temporary file in the same folder
 * and renamed over `outPath` only when complete, so readers never see a partial file and a
 * failure leaves nothing behind. Never replaces one of the input files.
 */
export async function encodeImage(src: EncodeSource, opts: EncodeOptions, outPath: string): Promise<EncodeResult> {
  const out = resolve(outPath);
  await refuseInputs(out, [...(opts.inputPaths ?? []), isRaw(src) ? undefined : src.sourcePath]);
  const px = toPixels(src, opts.bitDepth);
  const dir = dirname(out);
  const tmp = join(dir, `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  let carrier: string | undefined;
  try {
    const built = await pipelineFor(px, opts, dir);
    carrier = built.carrier;
    const info = await built.s.toFile(tmp);
    await rename(tmp, out);
    return encodeResult(opts.format, info, built.outDepth);
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof ImageEncodeError || err instanceof RangeError || err instanceof TypeError) throw err;
    throw new ImageEncodeError(out, `could not write ${opts.format}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    if (carrier) await rm(carrier, { force: true });
  }
}

/** Encodes into memory (for the web UI). */
export async function encodeToBuffer(src: EncodeSource, opts: EncodeOptions): Promise<{ data: Buffer; info: EncodeResult }> {
  const px = toPixels(src, opts.bitDepth);
  let carrier: string | undefined;
  try {
    const built = await pipelineFor(px, opts, tmpdir());
    carrier = built.carrier;
    const { data, info } = await built.s.toBuffer({ resolveWithObject: true });
    return { data, info: encodeResult(opts.format, info, built.outDepth) };
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw err;
    throw new ImageEncodeError('<buffer>', `could not encode ${opts.format}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  } finally {
    if (carrier) await rm(carrier, { force: true });
  }
}
