import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeRegion, probeImage } from '../../engine/image/decode';
import { BLUE, GREEN, RED, WHITE, gradient, makeTmpDir, quadrants, rawSharp, to255, type RGB } from './image-fixtures';

const tmp = makeTmpDir();
afterAll(tmp.cleanup);

/** Colour of the rgb planes at (x, y), 0..255. */
function pixel(img: { width: number; height: number; data: Float32Array }, x: number, y: number): number[] {
  const n = img.width * img.height;
  return [0, 1, 2].map((c) => to255(img.data[c * n + y * img.width + x]));
}

function expectNear(got: number[], want: RGB, tol: number): void {
  got.forEach((v, i) =>
    expect(Math.abs(v - want[i]!), `channel ${i}: got ${got.join(',')} want ${want.join(',')}`).toBeLessThanOrEqual(tol),
  );
}

describe('decodeImage', () => {
  it('decodes PNG exactly into RGB planes', async () => {
    const raw = gradient(17, 9);
    const file = join(tmp.dir, 'g.png');
    await rawSharp(raw, 17, 9, 3).png().toFile(file);
    const img = await decodeImage(file);
    expect([img.width, img.height, img.format, img.bitDepth, img.hasAlpha, img.orientationApplied]).toEqual([
      17,
      9,
      'png',
      8,
      false,
      false,
    ]);
    expect(img.rgb.channels).toBe(3);
    expect(img.rgb.data.length).toBe(3 * 17 * 9);
    for (const [x, y] of [
      [0, 0],
      [16, 0],
      [5, 8],
      [11, 4],
    ] as const) {
      const i = (y * 17 + x) * 3;
      expect(pixel(img.rgb, x, y)).toEqual([raw[i], raw[i + 1], raw[i + 2]]);
    }
    expect(img.sourcePath).toBe(file);
  });

  it('applies EXIF orientation 6 exactly once and records it', async () => {
    // Upright image is 32x48; stored rotated 90 degrees counter-clockwise with orientation 6.
    const upright = quadrants(32, 48);
    const file = join(tmp.dir, 'rot6.jpg');
    const stored = await rawSharp(upright, 32, 48, 3).rotate(270).png().toBuffer();
    await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 98, chromaSubsampling: '4:4:4' }).toFile(file);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([48, 32, 6]);

    const info = await probeImage(file);
    expect([info.width, info.height, info.storedWidth, info.storedHeight, info.orientation]).toEqual([32, 48, 48, 32, 6]);
    const img = await decodeImage(file);
    expect([img.width, img.height, img.orientationApplied]).toEqual([32, 48, true]);
    expect(img.exif).toBeInstanceOf(Buffer);
    expectNear(pixel(img.rgb, 2, 2), RED, 6);
    expectNear(pixel(img.rgb, 29, 2), GREEN, 6);
    expectNear(pixel(img.rgb, 2, 45), BLUE, 6);
    expectNear(pixel(img.rgb, 29, 45), WHITE, 6);
  });

  it('splits alpha into its own plane', async () => {
    const raw = gradient(8, 5, 4);
    const file = join(tmp.dir, 'rgba.png');
    await rawSharp(raw, 8, 5, 4).png().toFile(file);
    const img = await decodeImage(file);
    expect(img.hasAlpha).toBe(true);
    expect(img.rgb.channels).toBe(3);
    expect(img.alpha?.channels).toBe(1);
    for (let i = 0; i < 40; i++) expect(to255(img.alpha!.data[i])).toBe(raw[i * 4 + 3]);
    expect(pixel(img.rgb, 3, 2)).toEqual([raw[(2 * 8 + 3) * 4], raw[(2 * 8 + 3) * 4 + 1], raw[(2 * 8 + 3) * 4 + 2]]);
  });

  it('keeps 16 bits when asked and reduces to 8 otherwise', async () => {
    const w = 6;
    const h = 4;
    const raw = new Uint16Array(w * h * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 2731 + 1) % 65536;
    const file = join(tmp.dir, 'deep.png');
    await rawSharp(raw, w, h, 3).toColourspace('rgb16').png().toFile(file);
    expect((await probeImage(file)).bitDepth).toBe(16);
    const deep = await decodeImage(file, { keep16bit: true });
    expect(deep.bitDepth).toBe(16);
    const n = w * h;
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) expect(Math.round(deep.rgb.data[c * n + p]! * 65535)).toBe(raw[p * 3 + c]);
    const shallow = await decodeImage(file);
    expect(shallow.bitDepth).toBe(8);
    expect(Math.round(shallow.rgb.data[0]! * 255)).toBe(Math.round(raw[0]! / 257));
  });

  it('delivers grey sources as three equal planes and records the source channels', async () => {
    const grey = Buffer.from(Array.from({ length: 30 }, (_, i) => i * 8));
    const file = join(tmp.dir, 'grey.png');
    await rawSharp(grey, 6, 5, 1).toColourspace('b-w').png().toFile(file);
    const img = await decodeImage(file);
    expect([img.sourceChannels, img.sourceSpace, img.rgb.channels]).toEqual([1, 'b-w', 3]);
    const n = 30;
    for (let i = 0; i < n; i++) {
      expect(to255(img.rgb.data[i])).toBe(grey[i]);
      expect(img.rgb.data[n + i]).toBe(img.rgb.data[i]);
      expect(img.rgb.data[2 * n + i]).toBe(img.rgb.data[i]);
    }
  });

  it('delivers 16-bit grey+alpha as 16-bit RGB planes plus alpha', async () => {
    const ga = new Uint16Array([0, 65535, 1000, 30000, 1001, 500, 65535, 0]); // 4 pixels: grey, alpha
    const file = join(tmp.dir, 'grey16a.png');
    await rawSharp(ga, 2, 2, 2).toColourspace('grey16').png().toFile(file);
    const img = await decodeImage(file, { keep16bit: true });
    expect([img.bitDepth, img.sourceChannels, img.hasAlpha]).toEqual([16, 2, true]);
    for (let p = 0; p < 4; p++) {
      for (let c = 0; c < 3; c++) expect(Math.round(img.rgb.data[c * 4 + p]! * 65535)).toBe(ga[p * 2]);
      expect(Math.round(img.alpha!.data[p]! * 65535)).toBe(ga[p * 2 + 1]);
    }
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const file = join(tmp.dir, 'cmyk.jpg');
    await rawSharp(quadrants(32, 32), 32, 32, 3).toColourspace('cmyk').jpeg({ quality: 98 }).toFile(file);
    expect((await sharp(file).metadata()).space).toBe('cmyk');
    const img = await decodeImage(file);
    expect([img.sourceSpace, img.sourceChannels, img.rgb.channels, img.hasAlpha]).toEqual(['cmyk', 4, 3, false]);
    expect(img.iccProfile).toBeUndefined(); // the CMYK profile was used up by the conversion
    // CMYK round trips through a press profile lose some saturation; the hue must survive.
    const tl = pixel(img.rgb, 4, 4);
    expect(tl[0]!).toBeGreaterThan(tl[1]! + 80);
    expect(tl[0]!).toBeGreaterThan(tl[2]! + 80);
    const bl = pixel(img.rgb, 4, 28);
    expect(bl[2]!).toBeGreaterThan(bl[0]! + 60);
  });

  it('keeps pixels in an embedded RGB profile and returns that profile', async () => {
    const file = join(tmp.dir, 'p3.png');
    await rawSharp(quadrants(8, 8), 8, 8, 3).withIccProfile('p3').png().toFile(file);
    const stored = await sharp(file).keepIccProfile().raw().toBuffer();
    const img = await decodeImage(file);
    expect(img.iccProfile?.length).toBeGreaterThan(100);
    expect(img.iccProfile?.subarray(16, 20).toString('latin1')).toBe('RGB ');
    expect(pixel(img.rgb, 0, 0)).toEqual([stored[0], stored[1], stored[2]]);
  });

  it('decodes the first frame of an animated GIF', async () => {
    const w = 4;
    const frames = Buffer.concat([Buffer.alloc(w * w * 3, 255), Buffer.alloc(w * w * 3, 0)]);
    for (let i = 0; i < w * w; i++) frames.set([255, 0, 0], i * 3); // frame 0 red
    for (let i = w * w; i < 2 * w * w; i++) frames.set([0, 0, 255], i * 3); // frame 1 blue
    const file = join(tmp.dir, 'anim.gif');
    await sharp(frames, { raw: { width: w, height: 2 * w, channels: 3, pageHeight: w } })
      .gif({ loop: 0, delay: [100, 100] })
      .toFile(file);
    expect((await probeImage(file)).pages).toBe(2);
    const img = await decodeImage(file);
    expect([img.width, img.height, img.format]).toEqual([w, w, 'gif']);
    expect(pixel(img.rgb, 1, 1)).toEqual([255, 0, 0]);
  });

  it.each(['webp', 'tiff', 'avif'] as const)('decodes %s', async (fmt) => {
    const file = join(tmp.dir, `q.${fmt}`);
    const encoder = rawSharp(quadrants(32, 32), 32, 32, 3);
    await encoder[fmt]({ lossless: true } as never).toFile(file);
    const img = await decodeImage(file);
    expect([img.width, img.height, img.format]).toEqual([32, 32, fmt]);
    expectNear(pixel(img.rgb, 4, 4), RED, 6);
    expectNear(pixel(img.rgb, 28, 28), WHITE, 6);
  });

  it('decodes a Buffer too', async () => {
    const buf = await rawSharp(quadrants(8, 8), 8, 8, 3).png().toBuffer();
    const img = await decodeImage(buf, { name: 'upload.png' });
    expect(pixel(img.rgb, 7, 0)).toEqual([...GREEN]);
    expect(img.sourcePath).toBeUndefined();
  });
});

describe('decodeRegion', () => {
  it('reads one rectangle, in upright coordinates', async () => {
    const raw = gradient(40, 30);
    const file = join(tmp.dir, 'region.png');
    await rawSharp(raw, 40, 30, 3).png().toFile(file);
    const r = await decodeRegion(file, { left: 10, top: 5, width: 7, height: 3 });
    expect([r.width, r.height]).toEqual([7, 3]);
    const i = ((5 + 2) * 40 + (10 + 6)) * 3;
    expect(pixel(r.rgb, 6, 2)).toEqual([raw[i], raw[i + 1], raw[i + 2]]);
  });

  it('uses upright coordinates for rotated sources', async () => {
    const file = join(tmp.dir, 'rot6-region.png');
    const stored = await rawSharp(quadrants(32, 48), 32, 48, 3).rotate(270).png().toBuffer();
    await sharp(stored).withMetadata({ orientation: 6 }).png().toFile(file);
    const r = await decodeRegion(file, { left: 16, top: 24, width: 16, height: 24 });
    expect(pixel(r.rgb, 0, 0)).toEqual([...WHITE]);
    expect(pixel(r.rgb, 15, 23)).toEqual([...WHITE]);
  });

  it('rejects a region outside the image, naming the file', async () => {
    const file = join(tmp.dir, 'small.png');
    writeFileSync(file, await rawSharp(gradient(8, 8), 8, 8, 3).png().toBuffer());
    await expect(decodeRegion(file, { left: 4, top: 0, width: 5, height: 2 })).rejects.toMatchObject({
      name: 'ImageDecodeError',
      code: 'bad-region',
      message: expect.stringContaining('small.png'),
    });
  });
});
