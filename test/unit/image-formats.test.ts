import { describe, expect, it } from 'vitest';
import {
  READABLE_EXTENSIONS,
  extensionForFormat,
  formatFromExtension,
  isReadableExtension,
  outputFormatFor,
  readableExtensionsNoDot,
} from '../../engine/image/formats';

describe('formats', () => {
  it('lists the readable extensions of this sharp build, and not libvips-internal .v', () => {
    for (const ext of ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif']) expect(READABLE_EXTENSIONS).toContain(ext);
    expect(READABLE_EXTENSIONS).not.toContain('.v');
    expect(READABLE_EXTENSIONS).not.toContain('.bmp'); // no BMP loader in the prebuilt libvips
    expect(readableExtensionsNoDot()).toContain('jpg');
    expect(readableExtensionsNoDot().every((e) => !e.startsWith('.'))).toBe(true);
  });

  it('recognises readable paths case-insensitively', () => {
    expect(isReadableExtension('/a/B.JPG')).toBe(true);
    expect(isReadableExtension('photo.tiff')).toBe(true);
    expect(isReadableExtension('notes.txt')).toBe(false);
    expect(isReadableExtension('png')).toBe(false);
  });

  it('maps extensions to output formats and back', () => {
    expect(formatFromExtension('x.JPEG')).toBe('jpeg');
    expect(formatFromExtension('x.jpg')).toBe('jpeg');
    expect(formatFromExtension('dir.png/x.tif')).toBe('tiff');
    expect(formatFromExtension('x.gif')).toBeUndefined();
    expect(formatFromExtension('noext')).toBeUndefined();
    for (const f of ['png', 'jpeg', 'webp', 'avif', 'tiff'] as const) expect(formatFromExtension(`a${extensionForFormat(f)}`)).toBe(f);
  });

  it('chooses an output format for an input format', () => {
    expect(outputFormatFor('jpeg')).toBe('jpeg');
    expect(outputFormatFor('jpeg', 'same')).toBe('jpeg');
    expect(outputFormatFor('gif')).toBe('png');
    expect(outputFormatFor('svg')).toBe('png');
    expect(outputFormatFor('heif')).toBe('png');
    expect(outputFormatFor('avif')).toBe('avif');
    expect(outputFormatFor('gif', 'webp')).toBe('webp');
  });
});
