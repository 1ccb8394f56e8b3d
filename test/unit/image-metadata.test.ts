import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exifForOutput, exifOrientation, iccColourSpace, isValidExif } from '../../engine/image/metadata';

/** A minimal EXIF blob: TIFF header + IFD0 with Orientation (and one other tag before it). */
function exifBlob(order: 'II' | 'MM', orientation: number, prefix: boolean): Buffer {
  const le = order === 'II';
  const t = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  const u16 = (v: number, o: number) => (le ? t.writeUInt16LE(v, o) : t.writeUInt16BE(v, o));
  const u32 = (v: number, o: number) => (le ? t.writeUInt32LE(v, o) : t.writeUInt32BE(v, o));
  t.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(2, 8);
  u16(0x0100, 10); // ImageWidth LONG 1 = 640
  u16(4, 12);
  u32(1, 14);
  u32(640, 18);
  u16(0x0112, 22); // Orientation SHORT 1
  u16(3, 24);
  u32(1, 26);
  u16(orientation, 30);
  return prefix ? Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), t]) : t;
}

describe('EXIF helpers', () => {
  it.each([
    ['II', true],
    ['MM', true],
    ['II', false],
    ['MM', false],
  ] as const)('reads and resets Orientation in %s order (prefix %s)', (order, prefix) => {
    const src = exifBlob(order, 6, prefix);
    expect(exifOrientation(src)).toBe(6);
    const out = exifForOutput(src, 1)!;
    expect(out.subarray(0, 6).toString('latin1')).toBe('Exif\0\0');
    expect(exifOrientation(out)).toBe(1);
    expect(exifOrientation(src)).toBe(6); // the input is not modified
    expect(out.length).toBe(exifBlob(order, 6, true).length);
  });

  it('rejects blobs that are not EXIF instead of passing them on', () => {
    expect(isValidExif(Buffer.from('hello world'))).toBe(false);
    expect(exifForOutput(Buffer.from('Exif\0\0XX*\0\0\0\0\0'))).toBeUndefined();
    expect(exifOrientation(Buffer.alloc(3))).toBeUndefined();
    // IFD0 entry count pointing past the end: no throw, orientation unknown.
    const cut = exifBlob('II', 6, false).subarray(0, 20);
    expect(exifOrientation(cut)).toBeUndefined();
  });

  it('reads EXIF as sharp writes it', async () => {
    const jpg = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .withMetadata({ orientation: 8 })
      .jpeg()
      .toBuffer();
    const { exif } = await sharp(jpg).metadata();
    expect(exifOrientation(exif)).toBe(8);
  });
});

describe('iccColourSpace', () => {
  it('reads the colour space of real profiles and rejects junk', async () => {
    const p3 = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .withIccProfile('p3')
      .png()
      .toBuffer();
    expect(iccColourSpace((await sharp(p3).metadata()).icc)).toBe('RGB ');
    const cmyk = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .withIccProfile('cmyk')
      .jpeg()
      .toBuffer();
    expect(iccColourSpace((await sharp(cmyk).metadata()).icc)).toBe('CMYK');
    expect(iccColourSpace(Buffer.alloc(200))).toBeUndefined();
    expect(iccColourSpace(undefined)).toBeUndefined();
  });
});
