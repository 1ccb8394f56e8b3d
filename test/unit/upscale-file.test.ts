import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../engine/image/decode';
import { exifOrientation } from '../../engine/image/metadata';
import { SessionCache } from '../../engine/runtime/cache';
import { passesFor, scaleLabel, upscaleFile, upscaleImage } from '../../engine/upscale/pipeline';
import { tinyModel, writeTestImage } from './upscale-helpers';

const model = tinyModel();
const sessions = new SessionCache(8);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-upscale-'));
});
afterAll(async () => {
  await sessions.clear();
  await rm(dir, { recursive: true, force: true });
});

const base = { model, sessions, ep: 'cpu' as const, tile: 32 };

describe('scale factors', () => {
  it('x4 and x8 are repeated x2 passes, labelled as such; x3 is refused', () => {
    expect(passesFor(2, 2)).toBe(1);
    expect(passesFor(8, 2)).toBe(3);
    expect(scaleLabel(4, 2)).toBe('x4 (2 passes of x2)');
    expect(scaleLabel(2, 2)).toBe('x2');
    expect(() => passesFor(3, 2)).toThrow(/not offered/);
  });
});

describe('upscaleFile', () => {
  it('writes the x2 image the in-memory path computes, quantised', async () => {
    const input = join(dir, 'a.png');
    await writeTestImage(input, 70, 45);
    const res = await upscaleFile(input, join(dir, 'a_x2.png'), base);
    expect([res.outWidth, res.outHeight, res.format, res.scaleLabel, res.ep.used]).toEqual([140, 90, 'png', 'x2', 'cpu']);
    const got = await decodeImage(res.output);
    const src = await decodeImage(input);
    const ref = await upscaleImage(src.rgb, undefined, base);
    let max = 0;
    for (let i = 0; i < ref.rgb.data.length; i++)
      max = Math.max(max, Math.abs(Math.min(1, Math.max(0, ref.rgb.data[i]!)) - got.rgb.data[i]!));
    expect(max).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]); // no temp files left
  });

  it('auto EP and auto tile: the tile follows the provider auto picked', async () => {
    const input = join(dir, 'auto.png');
    await writeTestImage(input, 300, 40);
    const res = await upscaleFile(input, join(dir, 'auto_x2.png'), { model, sessions, ep: 'auto', tile: 'auto' });
    expect(res.ep.requested).toBe('auto');
    expect(res.tile).toBe(res.ep.used === 'cpu' ? 256 : 512);
    expect([res.outWidth, res.outHeight]).toEqual([600, 80]);
  });

  it('x4 runs two passes and reports them', async () => {
    const input = join(dir, 'b.jpg');
    await writeTestImage(input, 30, 20, { format: 'jpeg' });
    const events: number[] = [];
    const res = await upscaleFile(input, join(dir, 'b_x4.jpg'), { ...base, scale: 4, onProgress: (p) => events.push(p.pass) });
    expect([res.outWidth, res.outHeight, res.format, res.passes, res.scaleLabel]).toEqual([120, 80, 'jpeg', 2, 'x4 (2 passes of x2)']);
    expect(events).toContain(1);
    expect(events).toContain(2);
  });

  for (const scale of [2, 4]) {
    it(`keeps the alpha channel of an RGBA PNG, upscaled x${scale}`, async () => {
      const input = join(dir, `alpha${scale}.png`);
      const w = 40;
      const h = 30;
      const data = Buffer.alloc(w * h * 4, 128);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(y * w + x) * 4 + 3] = x < w / 2 ? 0 : 255;
      await sharp(data, { raw: { width: w, height: h, channels: 4 } })
        .png()
        .toFile(input);
      const res = await upscaleFile(input, join(dir, `alpha_x${scale}.png`), { ...base, scale });
      const out = await decodeImage(res.output);
      expect([out.hasAlpha, out.width, out.height]).toEqual([true, w * scale, h * scale]);
      const a = out.alpha!.data;
      const row = 5 * scale * w * scale;
      expect(a[row + 2]).toBe(0); // left half transparent
      expect(a[row + w * scale - 3]).toBe(1); // right half opaque
    });
  }

  it('applies EXIF orientation once and carries ICC and EXIF (orientation reset to 1)', async () => {
    const input = join(dir, 'rot.jpg');
    await sharp(Buffer.alloc(40 * 20 * 3, 90), { raw: { width: 40, height: 20, channels: 3 } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Make: 'MiniSRTest' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toFile(input);
    expect(exifOrientation((await sharp(input).metadata()).exif)).toBe(6);
    const res = await upscaleFile(input, join(dir, 'rot_x2.jpg'), base);
    expect([res.outWidth, res.outHeight]).toEqual([40, 80]); // stored 40x20, upright 20x40
    const meta = await sharp(res.output).metadata();
    expect(meta.icc).toBeDefined();
    expect(meta.icc!.equals((await sharp(input).metadata()).icc!)).toBe(true);
    expect(exifOrientation(meta.exif)).toBe(1);
    expect(meta.exif!.toString('latin1')).toContain('MiniSRTest');
  });

  it('refuses to write over its input and leaves the input as it was', async () => {
    const input = join(dir, 'same.png');
    await writeTestImage(input, 20, 20);
    const before = await readFile(input);
    await expect(upscaleFile(input, input, base)).rejects.toThrow(/refusing to overwrite the input/);
    await expect(upscaleFile(input, join(dir, '.', 'same.png'), base)).rejects.toThrow(/refusing/);
    expect((await readFile(input)).equals(before)).toBe(true);
  });

  it('cancelled mid-image: stops within a tile, leaves no output and no temp file', async () => {
    const sub = join(dir, 'cancel');
    await rm(sub, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(sub));
    const input = join(sub, 'big.png');
    await writeTestImage(input, 160, 120);
    const ac = new AbortController();
    let tilesAfterAbort = -1;
    let total = 0;
    const run = upscaleFile(input, join(sub, 'big_x2.png'), {
      ...base,
      signal: ac.signal,
      onProgress: (p) => {
        total = p.tilesTotal;
        if (tilesAfterAbort >= 0) tilesAfterAbort++;
        if (p.tilesDone === 3) {
          ac.abort();
          tilesAfterAbort = 0;
        }
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(total).toBeGreaterThan(3);
    expect(tilesAfterAbort).toBe(0);
    expect(await readdir(sub)).toEqual(['big.png']);
  });

  it('a corrupt input gives a clear error naming the file and leaves nothing', async () => {
    const sub = join(dir, 'bad');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    const input = join(sub, 'text.png');
    await writeFile(input, 'hello, not a png');
    await expect(upscaleFile(input, join(sub, 'out.png'), base)).rejects.toThrow(/text\.png: not an image/);
    expect(await readdir(sub)).toEqual(['text.png']);
  });
});

describe('upscaleFile, large-image and 16-bit paths', () => {
  it('reading band by band (as for huge images) gives the same file as one whole decode, x2 and x4', async () => {
    const input = join(dir, 'bands.png');
    await writeTestImage(input, 75, 66, { seed: 9 });
    for (const scale of [2, 4]) {
      const whole = await upscaleFile(input, join(dir, `bands_whole_x${scale}.png`), { ...base, scale });
      const banded = await upscaleFile(input, join(dir, `bands_banded_x${scale}.png`), { ...base, scale, wholeDecodeMaxPixels: 0 });
      const [a, b] = await Promise.all([decodeImage(whole.output), decodeImage(banded.output)]);
      expect([b.width, b.height]).toEqual([75 * scale, 66 * scale]);
      expect(Buffer.from(b.rgb.data.buffer).equals(Buffer.from(a.rgb.data.buffer))).toBe(true);
    }
  });

  it('keeps 16 bits for a 16-bit PNG by default; keep16bit: false (--8bit) reduces to 8', async () => {
    const input = join(dir, 'deep.png');
    const w = 20;
    const h = 14;
    const px = new Uint16Array(w * h * 3).map((_, i) => (i * 997) % 65536);
    await sharp(Buffer.from(px.buffer), { raw: { width: w, height: h, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toFile(input);
    expect((await sharp(input).metadata()).depth).toBe('ushort');
    const deep = await upscaleFile(input, join(dir, 'deep_x2.png'), { ...base });
    expect(deep.bitDepth).toBe(16);
    expect((await sharp(deep.output).metadata()).depth).toBe('ushort');
    const shallow = await upscaleFile(input, join(dir, 'deep_x2_8.png'), { ...base, keep16bit: false });
    expect((await sharp(shallow.output).metadata()).depth).toBe('uchar');
  });
});
