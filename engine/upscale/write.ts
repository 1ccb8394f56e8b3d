import sharp from 'sharp';
import type { Sharp } from 'sharp';
import type { OutputFormat } from '../image/formats';

/**
 * Encodes a `.v` file (as VipsFileSink writes it) to its final format. libvips reads the `.v`
 * pixels from disk as the encoder needs them, so a huge output never sits in memory whole.
 * Options mirror engine/image/encode.ts so both paths give the same files.
 */

export interface FileEncodeOptions {
  format: OutputFormat;
  quality?: number;
  bitDepth: 8 | 16;
  /** The `.v` file carries ICC/EXIF/XMP blobs: keep them in the output. */
  keepIcc: boolean;
  keepExif: boolean;
  keepXmp: boolean;
  density?: number;
}

function withFormat(s: Sharp, opts: FileEncodeOptions, hasAlpha: boolean): Sharp {
  const q = opts.quality;
  if (q !== undefined && (!Number.isInteger(q) || q < 1 || q > 100)) throw new RangeError(`quality must be an integer 1..100, got ${q}`);
  switch (opts.format) {
    case 'png':
      return s.png({ compressionLevel: 6 });
    case 'jpeg': {
      const quality = q ?? 92;
      const flat = hasAlpha ? s.flatten({ background: '#ffffff' }) : s; // JPEG has no alpha: composite onto white
      return flat.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' });
    }
    case 'webp':
      return s.webp({ quality: q ?? 90, alphaQuality: 100 });
    case 'avif':
      return s.avif({ quality: q ?? 70, effort: 4 });
    case 'tiff':
      return s.tiff({ compression: 'deflate', predictor: 'horizontal' });
  }
}

export async function encodeVipsFile(vPath: string, outPath: string, channels: 3 | 4, opts: FileEncodeOptions): Promise<{ bytes: number; width: number; height: number }> {
  if (opts.bitDepth === 16 && opts.format !== 'png' && opts.format !== 'tiff') throw new RangeError(`16-bit output needs png or tiff, not ${opts.format}`);
  let s = sharp(vPath, { limitInputPixels: false, sequentialRead: true });
  if (opts.keepIcc) s = s.keepIccProfile();
  if (opts.keepExif) s = s.keepExif();
  if (opts.keepXmp) s = s.keepXmp();
  if (opts.density) s = s.withDensity(opts.density);
  s = s.toColourspace(opts.bitDepth === 16 ? 'rgb16' : 'srgb');
  const info = await withFormat(s, opts, channels === 4).toFile(outPath);
  return { bytes: info.size, width: info.width, height: info.height };
}
