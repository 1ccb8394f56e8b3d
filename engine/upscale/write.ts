import sharp from 'sharp';
import { withOutputFormat, type FormatOptions } from '../image/encode';
import { SIXTEEN_BIT_FORMATS } from '../image/formats';

/**
 * Encodes a `.v` file (as VipsFileSink writes it) to its final format. libvips reads the `.v`
 * pixels from disk as the encoder needs them, so a huge output never sits in memory whole.
 * The format settings are engine/image/encode.ts's, so both paths give the same files.
 */

export interface FileEncodeOptions extends FormatOptions {
  bitDepth: 8 | 16;
  /** The `.v` file carries ICC/EXIF/XMP blobs: keep them in the output. */
  keepIcc: boolean;
  keepExif: boolean;
  keepXmp: boolean;
  density?: number;
}

export async function encodeVipsFile(
  vPath: string,
  outPath: string,
  channels: 3 | 4,
  opts: FileEncodeOptions,
): Promise<{ bytes: number; width: number; height: number }> {
  if (opts.bitDepth === 16 && !SIXTEEN_BIT_FORMATS.has(opts.format))
    throw new RangeError(`16-bit output needs png or tiff, not ${opts.format}`);
  let s = sharp(vPath, { limitInputPixels: false, sequentialRead: true });
  if (opts.keepIcc) s = s.keepIccProfile();
  if (opts.keepExif) s = s.keepExif();
  if (opts.keepXmp) s = s.keepXmp();
  if (opts.density) s = s.withDensity(opts.density);
  s = s.toColourspace(opts.bitDepth === 16 ? 'rgb16' : 'srgb');
  const info = await withOutputFormat(s, opts, channels === 4).toFile(outPath);
  return { bytes: info.size, width: info.width, height: info.height };
}
