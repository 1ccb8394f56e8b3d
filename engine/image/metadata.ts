/**
 * Small, bounds-checked readers/patchers for the metadata blobs we carry from input to output.
 * They never throw on malformed data: a blob they cannot understand is reported as such and the
 * caller drops it rather than writing something broken.
 */

const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');
const ORIENTATION_TAG = 0x0112;
const TYPE_SHORT = 3;

/** The 4-character colour space of an ICC profile header ('RGB ', 'GRAY', 'CMYK', ...). */
export function iccColourSpace(icc: Uint8Array | undefined): string | undefined {
  if (!icc || icc.length < 128) return undefined;
  // Bytes 36..39 must be the 'acsp' signature; 16..19 hold the data colour space.
  if (Buffer.from(icc.subarray(36, 40)).toString('latin1') !== 'acsp') return undefined;
  return Buffer.from(icc.subarray(16, 20)).toString('latin1');
}

/** The ICC profile's description is not needed; only whether it can describe RGB pixels. */
export function isRgbIcc(icc: Uint8Array | undefined): boolean {
  return iccColourSpace(icc) === 'RGB ';
}

interface TiffView {
  tiff: Buffer; // the TIFF structure ('II*\0' or 'MM\0*' ...), a view into the blob
  little: boolean;
  ifd0: number;
}

function tiffView(exif: Buffer): TiffView | undefined {
  const tiff = exif.subarray(0, 6).equals(EXIF_PREFIX) ? exif.subarray(6) : exif;
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const magic = little ? tiff.readUInt16LE(2) : tiff.readUInt16BE(2);
  const ifd0 = little ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  if (magic !== 42 || ifd0 < 8 || ifd0 + 2 > tiff.length) return undefined;
  return { tiff, little, ifd0 };
}

/** True when the blob is an EXIF/TIFF structure with a readable IFD0. */
export function isValidExif(exif: Uint8Array | undefined): boolean {
  return exif !== undefined && tiffView(Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength)) !== undefined;
}

/** Byte offset (inside the TIFF view) of IFD0's Orientation value, if the tag is there. */
function orientationValueOffset(v: TiffView): number | undefined {
  const { tiff, little, ifd0 } = v;
  const u16 = (o: number) => (little ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const count = u16(ifd0);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) === ORIENTATION_TAG && u16(entry + 2) === TYPE_SHORT) return entry + 8;
  }
  return undefined;
}

/** The EXIF Orientation value (1..8), or undefined when absent or unreadable. */
export function exifOrientation(exif: Uint8Array | undefined): number | undefined {
  if (!exif) return undefined;
  const v = tiffView(Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength));
  const at = v && orientationValueOffset(v);
  if (v === undefined || at === undefined) return undefined;
  return v.little ? v.tiff.readUInt16LE(at) : v.tiff.readUInt16BE(at);
}

/**
 * A copy of the EXIF blob, prefixed with 'Exif\0\0' (what libvips expects), whose Orientation is
 * set to `orientation` (when the tag exists; libvips also writes the tag from the image).
 * Returns undefined for a blob that is not EXIF, so it is dropped rather than written broken.
 */
export function exifForOutput(exif: Uint8Array, orientation = 1): Buffer | undefined {
  const src = Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength);
  const body = src.subarray(0, 6).equals(EXIF_PREFIX) ? src.subarray(6) : src;
  const out = Buffer.concat([EXIF_PREFIX, body]);
  const v = tiffView(out);
  if (!v) return undefined;
  const at = orientationValueOffset(v);
  if (at !== undefined) {
    if (v.little) v.tiff.writeUInt16LE(orientation, at);
    else v.tiff.writeUInt16BE(orientation, at);
  }
  return out;
}
