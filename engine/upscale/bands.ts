import { open, type FileHandle } from 'node:fs/promises';
import { decodeImage, decodeRegion, probeImage, type DecodedImage } from '../image/decode';
import type { PlanarImage } from '../image/planar';
import { assertLittleEndianHost, vipsExtension, vipsHeader, type VipsFileMetadata } from '../image/vips-file';
import type { BandSource, RowSink } from './pass';

/** Band sources (where input rows come from) and row sinks (where output rows go). */

/** Rows of an in-memory image (RGB planes plus an optional alpha plane). */
export function planarBandSource(rgb: PlanarImage, alpha?: PlanarImage): BandSource {
  if (rgb.channels !== 3) throw new RangeError(`expected an RGB image, got ${rgb.channels} channels`);
  const { width, height } = rgb;
  const rows = (plane: Float32Array, planes: number, top: number, count: number) => {
    const out = new Float32Array(planes * count * width);
    for (let c = 0; c < planes; c++)
      out.set(plane.subarray((c * height + top) * width, (c * height + top + count) * width), c * count * width);
    return out;
  };
  return {
    width,
    height,
    hasAlpha: alpha !== undefined,
    read: async (top, count) => ({ rgb: rows(rgb.data, 3, top, count), ...(alpha ? { alpha: rows(alpha.data, 1, top, count) } : {}) }),
  };
}

/** Images up to this many pixels are decoded once; larger ones a band at a time. */
export const WHOLE_DECODE_MAX_PIXELS = 16 * 1024 * 1024;

/**
 * Rows of an image file. Small images are decoded once; large ones band by band with
 * `decodeRegion`, so the full float image is never in memory.
 */
export async function fileBandSource(
  path: string,
  opts: { keep16bit?: boolean; wholeDecodeMaxPixels?: number } = {},
): Promise<BandSource & { first: DecodedImage }> {
  const info = await probeImage(path);
  const dopts = { keep16bit: opts.keep16bit ?? false };
  if (info.width * info.height <= (opts.wholeDecodeMaxPixels ?? WHOLE_DECODE_MAX_PIXELS)) {
    const img = await decodeImage(path, dopts);
    return { ...planarBandSource(img.rgb, img.alpha), first: img };
  }
  // A one-row decode gives the metadata (ICC, EXIF) without the pixels.
  const first = await decodeRegion(path, { left: 0, top: 0, width: info.width, height: 1 }, dopts);
  return {
    width: info.width,
    height: info.height,
    hasAlpha: first.hasAlpha,
    first,
    read: async (top, count) => {
      const band = await decodeRegion(path, { left: 0, top, width: info.width, height: count }, dopts);
      return { rgb: band.rgb.data, ...(band.alpha ? { alpha: band.alpha.data } : {}) };
    },
  };
}

/** Collects output rows into planes in memory (for library use and tests). */
export function planarSink(width: number, height: number, hasAlpha: boolean): RowSink & { rgb: PlanarImage; alpha?: PlanarImage } {
  const n = width * height;
  const rgb: PlanarImage = { width, height, channels: 3, data: new Float32Array(3 * n) };
  const alpha: PlanarImage | undefined = hasAlpha ? { width, height, channels: 1, data: new Float32Array(n) } : undefined;
  const C = hasAlpha ? 4 : 3;
  let row = 0;
  return {
    rgb,
    ...(alpha ? { alpha } : {}),
    async write(rows, count) {
      if (row + count > height) throw new RangeError(`planarSink: ${row + count} rows written to a ${height}-row image`);
      for (let i = 0; i < count * width; i++) {
        const p = row * width + i;
        rgb.data[p] = rows[i * C]!;
        rgb.data[n + p] = rows[i * C + 1]!;
        rgb.data[2 * n + p] = rows[i * C + 2]!;
        if (alpha) alpha.data[p] = rows[i * C + 3]!;
      }
      row += count;
    },
  };
}

/**
 * Streams output rows, quantised to 8 or 16 bits, into a libvips `.v` file on disk: the whole
 * output never sits in memory, and sharp encodes from the file (which libvips reads row by row).
 * The layout is libvips' native one: 64-byte header, pixels, XML block with metadata blobs.
 */
export class VipsFileSink implements RowSink {
  private fh: FileHandle | undefined;
  private rows = 0;

  private constructor(
    readonly path: string,
    readonly width: number,
    readonly height: number,
    readonly channels: 3 | 4,
    readonly bitDepth: 8 | 16,
  ) {}

  static async create(path: string, width: number, height: number, channels: 3 | 4, bitDepth: 8 | 16): Promise<VipsFileSink> {
    assertLittleEndianHost('VipsFileSink');
    const sink = new VipsFileSink(path, width, height, channels, bitDepth);
    sink.fh = await open(path, 'wx');
    await sink.fh.write(vipsHeader(width, height, channels, bitDepth === 16));
    return sink;
  }

  async write(rows: Float32Array, count: number): Promise<void> {
    if (!this.fh) throw new Error(`${this.path}: sink is closed`);
    if (this.rows + count > this.height)
      throw new RangeError(`${this.path}: ${this.rows + count} rows written to a ${this.height}-row image`);
    const max = this.bitDepth === 16 ? 65535 : 255;
    const q = this.bitDepth === 16 ? new Uint16Array(rows.length) : new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i]!;
      q[i] = v > 0 ? (v < 1 ? Math.round(v * max) : max) : 0; // clamp, round half up, NaN -> 0 (as planar.ts)
    }
    await this.fh.write(new Uint8Array(q.buffer, q.byteOffset, q.byteLength));
    this.rows += count;
  }

  /** Writes the metadata block and closes; the file is then a complete `.v` image. */
  async finish(meta: VipsFileMetadata = {}): Promise<void> {
    if (!this.fh) return;
    if (this.rows !== this.height) throw new Error(`${this.path}: ${this.rows} of ${this.height} rows written`);
    await this.fh.write(vipsExtension(meta));
    await this.close();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
