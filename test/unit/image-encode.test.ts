import { existsSync, linkSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../engine/image/decode';
import { encodeImage, encodeToBuffer } from '../../engine/image/encode';
import { exifOrientation } from '../../engine/image/metadata';
import { GREEN, RED, gradient, makeTmpDir, quadrants, rawSharp, to255 } from './image-fixtures';

const tmp = makeTmpDir();
afterAll(tmp.cleanup);

async function rawOf(file: string): Promise<{ data: Buffer; channels: number }> {
  const { data, info } = await sharp(file).keepIccProfile().raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function meanDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

describe('encodeImage round trips', () => {
  const W = 24;
  const H = 16;
  const src = gradient(W, H);
  const cases = [
    { format: 'png', opts: {}, max: 0 },
    { format: 'tiff', opts: {}, max: 0 },
    { format: 'webp', opts: { lossless: true }, max: 0 },
    { format: 'jpeg', opts: { quality: 95 }, mean: 3 },
    { format: 'jpeg', opts: { quality: 90, mozjpeg: true }, mean: 4 },
    { format: 'webp', opts: { quality: 90 }, mean: 6 },
    { format: 'avif', opts: { quality: 80 }, mean: 6 },
  ] as const;
  it.each(cases)('$format $opts', async (c) => {
    const img = await decodeImage(await rawSharp(src, W, H, 3).png().toBuffer());
    const out = join(tmp.dir, `rt-${c.format}-${Object.keys(c.opts).join('')}.${c.format}`);
    const res = await encodeImage(img, { format: c.format, ...c.opts }, out);
    expect([res.width, res.height, res.bitDepth]).toEqual([W, H, 8]);
    expect(statSync(out).size).toBe(res.bytes);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([W, H]);
    expect(meta.format).toBe(c.format === 'avif' ? 'heif' : c.format);
    const back = await rawOf(out);
    if ('max' in c) expect(maxDiff(back.data, src)).toBe(c.max);
    else expect(meanDiff(back.data, src)).toBeLessThan(c.mean);
  });

  it('keeps alpha values in RGBA PNG', async () => {
    const rgba = gradient(W, H, 4);
    const inFile = join(tmp.dir, 'alpha-in.png');
    await rawSharp(rgba, W, H, 4).png().toFile(inFile);
    const img = await decodeImage(inFile);
    const out = join(tmp.dir, 'alpha-out.png');
    await encodeImage(img, { format: 'png' }, out);
    const back = await rawOf(out);
    expect(back.channels).toBe(4);
    expect(maxDiff(back.data, rgba)).toBe(0);
  });

  it('writes 16-bit PNG and TIFF that keep values above 255 distinct', async () => {
    const w = 8;
    const h = 4;
    const raw = new Uint16Array(w * h * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = 256 + i * 997; // neighbours differ by < 257: lost at 8 bits
    const inFile = join(tmp.dir, 'in16.png');
    await rawSharp(raw, w, h, 3).toColourspace('rgb16').png().toFile(inFile);
    const img = await decodeImage(inFile, { keep16bit: true });
    for (const format of ['png', 'tiff'] as const) {
      const out = join(tmp.dir, `out16.${format}`);
      const res = await encodeImage(img, { format, bitDepth: 16 }, out);
      expect(res.bitDepth).toBe(16);
      expect((await sharp(out).metadata()).depth).toBe('ushort');
      const { data } = await sharp(out).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
      const back = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
      expect(Array.from(back)).toEqual(Array.from(raw));
    }
  });

  it('accepts raw interleaved pixels directly (8 and 16 bit, grey and RGBA)', async () => {
    const rgba = gradient(5, 3, 4);
    const out8 = join(tmp.dir, 'raw8.png');
    await encodeImage({ raw: rgba, width: 5, height: 3, channels: 4, bitDepth: 8 }, { format: 'png' }, out8);
    expect(maxDiff((await rawOf(out8)).data, rgba)).toBe(0);

    const grey = new Uint16Array([0, 1000, 40000, 65535, 300, 301]);
    const out16 = join(tmp.dir, 'raw16.png');
    await encodeImage({ raw: grey, width: 3, height: 2, channels: 1, bitDepth: 16 }, { format: 'png' }, out16);
    const meta = await sharp(out16).metadata();
    expect([meta.channels, meta.depth]).toEqual([1, 'ushort']);
    const { data } = await sharp(out16).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    expect(Array.from(new Uint16Array(data.buffer, data.byteOffset, 6))).toEqual(Array.from(grey));

    await expect(
      encodeImage({ raw: rgba, width: 5, height: 4, channels: 4, bitDepth: 8 }, { format: 'png' }, join(tmp.dir, 'bad.png')),
    ).rejects.toThrow(/5x4x4 needs 80/);
  });

  it('flattens alpha onto white for JPEG', async () => {
    const rgba = Buffer.alloc(4 * 4 * 4); // fully transparent black
    const { data, info } = await encodeToBuffer(
      { raw: rgba, width: 4, height: 4, channels: 4, bitDepth: 8 },
      { format: 'jpeg', quality: 95 },
    );
    expect(info.channels).toBe(3);
    const back = await sharp(data).raw().toBuffer();
    expect(Math.min(...back)).toBeGreaterThanOrEqual(250);
  });

  it('writes grey sources back as one channel when asked', async () => {
    const grey = Buffer.from(Array.from({ length: 12 }, (_, i) => i * 20));
    const img = await decodeImage(await rawSharp(grey, 4, 3, 1).toColourspace('b-w').png().toBuffer());
    expect(img.sourceChannels).toBe(1);
    const { data, info } = await encodeToBuffer(img, { format: 'png', grey: true });
    expect(info.channels).toBe(1);
    const meta = await sharp(data).metadata();
    expect([meta.channels, meta.space]).toEqual([1, 'b-w']);
    expect(Array.from(await sharp(data).toColourspace('b-w').raw().toBuffer())).toEqual(Array.from(grey));
  });

  it('refuses 16-bit output for formats that cannot hold it', async () => {
    const img = await decodeImage(await rawSharp(gradient(4, 4), 4, 4, 3).png().toBuffer());
    await expect(encodeImage(img, { format: 'jpeg', bitDepth: 16 }, join(tmp.dir, 'x.jpg'))).rejects.toThrow(
      /16-bit output needs png or tiff/,
    );
    expect(existsSync(join(tmp.dir, 'x.jpg'))).toBe(false);
  });
});

describe('metadata', () => {
  it('attaches the source ICC profile unchanged, without converting the pixels', async () => {
    const inFile = join(tmp.dir, 'p3-in.png');
    await rawSharp(quadrants(16, 16), 16, 16, 3).withIccProfile('p3').png().toFile(inFile);
    const inMeta = await sharp(inFile).metadata();
    const img = await decodeImage(inFile);
    for (const format of ['png', 'jpeg', 'webp', 'tiff', 'avif'] as const) {
      const out = join(tmp.dir, `p3-out.${format}`);
      await encodeImage(img, { format, quality: 95, metadata: { icc: img.iccProfile, keepMetadata: true } }, out);
      const meta = await sharp(out).metadata();
      expect(meta.icc, format).toBeDefined();
      expect(meta.icc!.equals(inMeta.icc!), format).toBe(true);
    }
    const pngBack = await rawOf(join(tmp.dir, 'p3-out.png'));
    expect(maxDiff(pngBack.data, (await rawOf(inFile)).data)).toBe(0);
  });

  it('converts from the source profile to sRGB when metadata is not kept', async () => {
    const inFile = join(tmp.dir, 'p3-strip-in.png');
    await rawSharp(quadrants(16, 16), 16, 16, 3).withIccProfile('p3').png().toFile(inFile);
    const img = await decodeImage(inFile);
    const out = join(tmp.dir, 'p3-strip.png');
    await encodeImage(img, { format: 'png', metadata: { icc: img.iccProfile, keepMetadata: false } }, out);
    expect((await sharp(out).metadata()).hasProfile).toBe(false);
    const back = await rawOf(out);
    // quadrants() was sRGB red before it was converted into P3; converting back restores it.
    for (let c = 0; c < 3; c++) expect(Math.abs(back.data[c]! - RED[c]!)).toBeLessThanOrEqual(2);
  });

  it('writes EXIF with orientation 1 after the pixels were rotated exactly once', async () => {
    const inFile = join(tmp.dir, 'exif-in.jpg');
    const stored = await rawSharp(quadrants(32, 48), 32, 48, 3).rotate(270).png().toBuffer();
    await sharp(stored)
      .withExif({ IFD0: { Make: 'MiniSR Test Camera', Model: 'Q1' } })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 98, chromaSubsampling: '4:4:4' })
      .toFile(inFile);
    expect(exifOrientation((await sharp(inFile).metadata()).exif)).toBe(6);
    const img = await decodeImage(inFile);
    expect(img.orientationApplied).toBe(true);
    for (const format of ['jpeg', 'png', 'webp', 'avif'] as const) {
      const out = join(tmp.dir, `exif-out.${format}`);
      await encodeImage(img, { format, quality: 95, metadata: { exif: img.exif, keepMetadata: true } }, out);
      const meta = await sharp(out).metadata();
      expect(meta.exif, format).toBeDefined();
      expect(meta.exif!.includes('MiniSR Test Camera'), format).toBe(true);
      expect(exifOrientation(meta.exif), format).toBe(1);
      const again = await decodeImage(out);
      expect([again.width, again.height, again.orientationApplied], format).toEqual([32, 48, false]);
      const n = 32 * 48;
      const tl = [0, 1, 2].map((c) => to255(again.rgb.data[c * n + 2 * 32 + 2]));
      const tr = [0, 1, 2].map((c) => to255(again.rgb.data[c * n + 2 * 32 + 29]));
      tl.forEach((v, c) => expect(Math.abs(v - RED[c]!), `${format} top-left`).toBeLessThanOrEqual(8));
      tr.forEach((v, c) => expect(Math.abs(v - GREEN[c]!), `${format} top-right`).toBeLessThanOrEqual(8));
    }
  });

  it('carries XMP and density (PNG pHYs; WebP has no density field) when kept', async () => {
    const xmp =
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>MiniSR xmp check</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>';
    const inFile = join(tmp.dir, 'xmp-in.png');
    await rawSharp(quadrants(8, 8), 8, 8, 3).withXmp(xmp).withDensity(300).png().toFile(inFile);
    const img = await decodeImage(inFile);
    expect(img.density).toBe(300);
    expect(img.xmp?.includes('MiniSR xmp check')).toBe(true);
    const out = join(tmp.dir, 'xmp-out.png');
    await encodeImage(img, { format: 'png', metadata: { xmp: img.xmp, density: img.density, keepMetadata: true } }, out);
    const meta = await sharp(out).metadata();
    expect(meta.xmp?.includes('MiniSR xmp check')).toBe(true);
    expect(meta.density).toBe(300);
  });

  it('drops EXIF and ICC when keepMetadata is false', async () => {
    const inFile = join(tmp.dir, 'strip-in.jpg');
    await rawSharp(quadrants(8, 8), 8, 8, 3)
      .withExif({ IFD0: { Make: 'Strip Me' } })
      .jpeg()
      .toFile(inFile);
    const img = await decodeImage(inFile);
    expect(img.exif).toBeDefined();
    const out = join(tmp.dir, 'strip-out.jpg');
    await encodeImage(img, { format: 'jpeg', metadata: { exif: img.exif, keepMetadata: false } }, out);
    const meta = await sharp(out).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.hasProfile).toBe(false);
  });
});

describe('atomic writes', () => {
  it('leaves no temporary files behind, on success or failure', async () => {
    const dir = join(tmp.dir, 'atomic');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .png()
      .toFile(join(tmp.dir, 'seed.png'));
    const img = await decodeImage(join(tmp.dir, 'seed.png'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    await encodeImage(img, { format: 'png', metadata: { exif: Buffer.from('not exif'), keepMetadata: true } }, join(dir, 'a.png'));
    expect((await sharp(join(dir, 'a.png')).metadata()).exif).toBeUndefined(); // unparseable EXIF is dropped
    await encodeImage(img, { format: 'webp' }, join(dir, 'a.webp'));
    await expect(encodeImage(img, { format: 'jpeg', quality: 0 }, join(dir, 'bad.jpg'))).rejects.toThrow(/quality/);
    // The target is an existing directory: encoding succeeds, the final rename fails.
    mkdirSync(join(dir, 'taken.png'));
    await expect(encodeImage(img, { format: 'png' }, join(dir, 'taken.png'))).rejects.toThrow(/taken\.png/);
    expect(readdirSync(dir).sort()).toEqual(['a.png', 'a.webp', 'taken.png']);
  });

  it('replaces an existing output file in one step', async () => {
    const out = join(tmp.dir, 'replace.png');
    writeFileSync(out, 'old contents');
    const img = await decodeImage(await rawSharp(gradient(4, 4), 4, 4, 3).png().toBuffer());
    await encodeImage(img, { format: 'png' }, out);
    expect((await sharp(out).metadata()).width).toBe(4);
  });

  it('never overwrites the input: same path, a hard link or a symlink to it', async () => {
    const input = join(tmp.dir, 'precious.png');
    await rawSharp(gradient(4, 4), 4, 4, 3).png().toFile(input);
    const before = readFileSync(input);
    const img = await decodeImage(input);
    const hard = join(tmp.dir, 'precious-hard.png');
    const soft = join(tmp.dir, 'precious-soft.png');
    linkSync(input, hard);
    symlinkSync(input, soft);
    for (const target of [input, join(tmp.dir, '.', 'precious.png'), hard, soft]) {
      await expect(encodeImage(img, { format: 'png' }, target)).rejects.toThrow(/refusing to overwrite the input/);
    }
    // Also when the caller names the input explicitly (raw pixels carry no source path).
    await expect(
      encodeImage({ raw: Buffer.alloc(48), width: 4, height: 4, channels: 3, bitDepth: 8 }, { format: 'png', inputPaths: [input] }, hard),
    ).rejects.toThrow(/refusing/);
    expect(readFileSync(input).equals(before)).toBe(true);
  });
});

describe('encodeToBuffer', () => {
  it('encodes into memory with the chosen format', async () => {
    const img = await decodeImage(
      await rawSharp(gradient(6, 4, 4), 6, 4, 4)
        .png()
        .toBuffer(),
    );
    const { data, info } = await encodeToBuffer(img, { format: 'webp', lossless: true });
    expect(info.format).toBe('webp');
    const meta = await sharp(data).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['webp', 6, 4, true]);
  });
});
