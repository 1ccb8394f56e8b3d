import sharp from 'sharp';

/** Formats the encoder writes. */
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'avif', 'tiff'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Formats that can hold 16 bits per channel through sharp. */
export const SIXTEEN_BIT_FORMATS: ReadonlySet<OutputFormat> = new Set<OutputFormat>(['png', 'tiff']);
/** Formats that can hold an alpha channel. */
export const ALPHA_FORMATS: ReadonlySet<OutputFormat> = new Set<OutputFormat>(['png', 'webp', 'avif', 'tiff']);

const OUTPUT_EXTENSIONS: Record<OutputFormat, string> = {
  png: '.png',
  jpeg: '.jpg',
  webp: '.webp',
  avif: '.avif',
  tiff: '.tif',
};

export const MIME_TYPES: Record<OutputFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
  tiff: 'image/tiff',
};

/**
 * Lower-case extensions (with the dot) that this libvips build can read from a file, taken from
 * `sharp.format` at load time so it follows the installed build (e.g. no HEIC, JPEG XL or BMP in
 * the prebuilt binaries). `.heif` is added when the heif loader exists (AV1-coded HEIF reads);
 * `.heic` is not: the prebuilt libheif has no HEVC decoder.
 */
export const READABLE_EXTENSIONS: readonly string[] = (() => {
  const exts = new Set<string>();
  for (const [name, info] of Object.entries(sharp.format)) {
    if (!info.input.file || name === 'vips') continue; // .v is libvips-internal, not a user format
    for (const suffix of info.input.fileSuffix ?? []) exts.add(suffix.toLowerCase());
    if (name === 'heif') exts.add('.heif');
  }
  return [...exts].sort();
})();

/** For a file dialog or a folder scan: does this path's extension look readable? */
export function isReadableExtension(filePath: string): boolean {
  const lower = filePath.toLowerCase();
  return READABLE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Extensions without the dot, e.g. for Electron's `filters: [{ extensions }]`. */
export function readableExtensionsNoDot(): string[] {
  return READABLE_EXTENSIONS.filter((e) => !e.includes('.', 1)).map((e) => e.slice(1));
}

/** Output format named by a file extension, or undefined for one the encoder does not write. */
export function formatFromExtension(filePath: string): OutputFormat | undefined {
  const m = /\.([^./\\]+)$/.exec(filePath.toLowerCase());
  switch (m?.[1]) {
    case 'png':
      return 'png';
    case 'jpg':
    case 'jpeg':
    case 'jpe':
    case 'jfif':
      return 'jpeg';
    case 'webp':
      return 'webp';
    case 'avif':
      return 'avif';
    case 'tif':
    case 'tiff':
      return 'tiff';
    default:
      return undefined;
  }
}

export function extensionForFormat(format: OutputFormat): string {
  return OUTPUT_EXTENSIONS[format];
}

export function isOutputFormat(name: string): name is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(name);
}

/**
 * The format to write for an input of `inputFormat` (as `decodeImage` reports it).
 * An explicit request wins; otherwise keep the input's format when the encoder writes it, and
 * fall back to PNG (lossless, keeps alpha) for GIF, SVG, HEIC and the rest.
 */
export function outputFormatFor(inputFormat: string, requested?: OutputFormat | 'same'): OutputFormat {
  if (requested && requested !== 'same') return requested;
  return isOutputFormat(inputFormat) ? inputFormat : 'png';
}
