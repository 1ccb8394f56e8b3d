import { open } from 'node:fs/promises';
import sharp from 'sharp';

/**
 * Writes raw interleaved pixels as a libvips native `.v` file with metadata blobs attached.
 * sharp cannot attach an ICC profile or EXIF blob byte-for-byte to raw pixel input (its
 * `withIccProfile` converts the pixels, `withExif` rebuilds EXIF from strings), but it keeps
 * the blobs of a `.v` input with `keepIccProfile()`/`keepExif()`. The format is libvips'
 * own: a 64-byte header, the pixels as they are in memory, then an XML extension block.
 */

export interface VipsFileMetadata {
  icc?: Buffer;
  /** Must start with 'Exif\0\0' (see metadata.ts exifForOutput). */
  exif?: Buffer;
  xmp?: Buffer;
  orientation?: number;
}

// The bytes b6 a6 f2 08 mark a file whose header and pixels are little-endian (Intel order).
const MAGIC_LSB_FIRST = 0xb6a6f208;
const BAND_UCHAR = 0;
const BAND_USHORT = 2;
// VipsInterpretation values.
const B_W = 1;
const SRGB = 22;
const RGB16 = 25;
const GREY16 = 26;

/** The 64-byte `.v` header for HWC pixels, uint8 or (sixteen) uint16, little-endian. */
export function vipsHeader(width: number, height: number, channels: number, sixteen: boolean): Buffer {
  const h = Buffer.alloc(64);
  h.writeUInt32BE(MAGIC_LSB_FIRST, 0);
  h.writeInt32LE(width, 4);
  h.writeInt32LE(height, 8);
  h.writeInt32LE(channels, 12);
  h.writeInt32LE(sixteen ? 16 : 8, 16); // bits per band (legacy field)
  h.writeInt32LE(sixteen ? BAND_USHORT : BAND_UCHAR, 20);
  h.writeInt32LE(0, 24); // coding: none
  h.writeInt32LE(channels <= 2 ? (sixteen ? GREY16 : B_W) : sixteen ? RGB16 : SRGB, 28);
  h.writeFloatLE(1, 32); // x resolution, pixels/mm
  h.writeFloatLE(1, 36); // y resolution
  return h; // remaining fields (length, compression, level, offsets) stay 0
}

/** The XML block after the pixels; libvips attaches its blobs to the image it reads. */
export function vipsExtension(meta: VipsFileMetadata): string {
  const fields: string[] = [];
  const blob = (name: string, b: Buffer | undefined) => {
    if (b && b.length > 0) fields.push(`    <field type="VipsBlob" name="${name}">${b.toString('base64')}</field>`);
  };
  blob('icc-profile-data', meta.icc);
  blob('exif-data', meta.exif);
  blob('xmp-data', meta.xmp);
  if (meta.orientation !== undefined) fields.push(`    <field type="gint" name="orientation">${meta.orientation}</field>`);
  return [
    '<?xml version="1.0"?>',
    `<root xmlns="http://www.vips.ecs.soton.ac.uk/vips/${sharp.versions.vips}">`,
    '  <header>',
    '  </header>',
    '  <meta>',
    ...fields,
    '  </meta>',
    '</root>',
    '',
  ].join('\n');
}

/** The header says little-endian and the pixels are written as they are in memory. */
export function assertLittleEndianHost(who: string): void {
  if (new Uint16Array(new Uint8Array([1, 0]).buffer)[0] !== 1) throw new Error(`${who}: big-endian hosts are not supported`);
}

/** Writes `pixels` (HWC, uint8 or native-endian uint16) plus `meta` to `path` as a `.v` file. */
export async function writeVipsFile(
  path: string,
  pixels: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
  meta: VipsFileMetadata,
): Promise<void> {
  assertLittleEndianHost('writeVipsFile');
  const sixteen = pixels instanceof Uint16Array;
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const fh = await open(path, 'wx');
  try {
    await fh.write(vipsHeader(width, height, channels, sixteen));
    await fh.write(bytes);
    await fh.write(vipsExtension(meta));
  } finally {
    await fh.close();
  }
}
