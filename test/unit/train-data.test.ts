import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchSource } from '../../engine/train/batch-source';
import { cropInto, makeBatch, pickCrops, type CropSpec, type TrainImage } from '../../engine/train/crops';
import { loadHrFolder, loadPairedFolder } from '../../engine/train/dataset';
import { Rng } from '../../engine/train/rng';

/** A random HR image and its LR made by 2x2 box averaging: an exactly aligned pair. */
function boxPair(w: number, h: number, seed: number): TrainImage {
  const rng = Rng.seeded(seed);
  const hr = Uint8Array.from({ length: 3 * 4 * w * h }, () => rng.int(64) * 4);
  const lr = new Uint8Array(3 * w * h);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const at = (yy: number, xx: number) => hr[(c * 2 * h + yy) * 2 * w + xx]!;
        lr[(c * h + y) * w + x] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
      }
  return { name: `img${seed}`, width: w, height: h, lr, hr };
}

const spec: CropSpec = { batch: 6, patch: 5, scale: 2, augment: true, seed: 7 };
const images = [boxPair(9, 7, 1), boxPair(12, 6, 2), boxPair(5, 5, 3)];

describe('aligned crops with dihedral augmentation', () => {
  it('keeps LR and HR patches aligned under all 8 transforms', () => {
    const im = images[0]!;
    const p = 4;
    const seen = new Set<string>();
    for (let t = 0; t < 8; t++) {
      const lr = new Float32Array(3 * p * p);
      const hr = new Float32Array(3 * 4 * p * p);
      cropInto(im.lr, im.width, im.height, 3, 2, p, t, lr, 0);
      cropInto(im.hr, 2 * im.width, 2 * im.height, 6, 4, 2 * p, t, hr, 0);
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++) {
            const P = 2 * p;
            const at = (y: number, x: number) => hr[(c * P + y) * P + x]!;
            const box = (at(2 * i, 2 * j) + at(2 * i, 2 * j + 1) + at(2 * i + 1, 2 * j) + at(2 * i + 1, 2 * j + 1)) / 4;
            expect(lr[(c * p + i) * p + j]).toBeCloseTo(box, 6);
          }
      seen.add(Array.from(lr).join(','));
    }
    expect(seen.size).toBe(8); // eight distinct orientations
  });

  it('transform 0 is a plain crop', () => {
    const im = images[1]!;
    const out = new Float32Array(3 * 4);
    cropInto(im.lr, im.width, im.height, 1, 3, 2, 0, out, 0);
    expect(out[1]).toBeCloseTo(im.lr[3 * im.width + 2]! / 255, 7);
  });

  it('makes the same batch for the same (seed, step) and different ones otherwise', () => {
    const a = makeBatch(images, spec, 3);
    const b = makeBatch(images, spec, 3);
    expect(Array.from(a.hr)).toEqual(Array.from(b.hr));
    expect(Array.from(makeBatch(images, spec, 4).lr)).not.toEqual(Array.from(a.lr));
    expect(Array.from(makeBatch(images, { ...spec, seed: 8 }, 3).lr)).not.toEqual(Array.from(a.lr));
    expect(a.lr.length).toBe(6 * 3 * 25);
    expect(a.hr.length).toBe(6 * 3 * 100);
    const picks = pickCrops(images, spec, 3);
    for (const pk of picks) {
      const im = images[pk.image]!;
      expect(pk.x + 5).toBeLessThanOrEqual(im.width);
      expect(pk.y + 5).toBeLessThanOrEqual(im.height);
    }
  });

  it('rejects images smaller than the patch', () => {
    expect(() => makeBatch([boxPair(4, 9, 1)], spec, 0)).toThrow(/smaller than the patch 5/);
  });

  it('crops the teacher output with the HR crop', () => {
    const withTeacher = images.map((im) => ({ ...im, teacher: im.hr }));
    const b = makeBatch(withTeacher, spec, 5);
    expect(Array.from(b.teacher!)).toEqual(Array.from(b.hr));
  });
});

describe('BatchSource', () => {
  it('a worker thread delivers the same batches as the main thread, in order, ahead of time', async () => {
    const shared = images.map((im) => {
      const lr = new Uint8Array(new SharedArrayBuffer(im.lr.length));
      const hr = new Uint8Array(new SharedArrayBuffer(im.hr.length));
      lr.set(im.lr);
      hr.set(im.hr);
      return { ...im, lr, hr };
    });
    const src = new BatchSource(shared, spec, { worker: true, prefetch: 2 });
    try {
      for (const step of [0, 1, 2, 10, 11]) {
        const b = await src.get(step);
        expect(b.step).toBe(step);
        expect(Array.from(b.hr)).toEqual(Array.from(makeBatch(images, spec, step).hr));
      }
    } finally {
      await src.close();
    }
  });
});

describe('BatchSource failures', () => {
  it("rejects the waiting step with the worker's error (and later ones), without unhandled rejections", async () => {
    const small = boxPair(4, 4, 9);
    const lr = new Uint8Array(new SharedArrayBuffer(small.lr.length));
    const hr = new Uint8Array(new SharedArrayBuffer(small.hr.length));
    lr.set(small.lr);
    hr.set(small.hr);
    const src = new BatchSource([{ ...small, lr, hr }], spec, { worker: true, prefetch: 2 });
    try {
      await expect(src.get(0)).rejects.toThrow(/smaller than the patch 5/);
      await expect(src.get(1)).rejects.toThrow(/smaller than the patch 5/);
    } finally {
      await src.close();
    }
  });
});

describe('BatchSource fallback', () => {
  it('makes batches in this thread when the worker module cannot load', async () => {
    const src = new BatchSource(images, spec, { worker: true, workerEntry: new URL('./no-such-worker.ts', import.meta.url) });
    try {
      for (const step of [0, 1, 5]) expect(Array.from((await src.get(step)).lr)).toEqual(Array.from(makeBatch(images, spec, step).lr));
    } finally {
      await src.close();
    }
  });
});

describe('image folders', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('turns HR images into (LR, HR) pairs, cropped to the scale, cached on disk', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-data-'));
    const rng = Rng.seeded(3);
    const raw = Buffer.from(Uint8Array.from({ length: 21 * 17 * 3 }, () => rng.int(256)));
    await sharp(raw, { raw: { width: 21, height: 17, channels: 3 } })
      .png()
      .toFile(path.join(dir, 'a.png'));
    await sharp(raw, { raw: { width: 21, height: 17, channels: 3 } })
      .webp({ lossless: true })
      .toFile(path.join(dir, 'b.webp'));
    const cacheDir = path.join(dir, 'cache');
    const first = await loadHrFolder(dir, { scale: 2, cacheDir });
    expect(first.map((im) => [im.name, im.width, im.height])).toEqual([
      ['a.png', 10, 8],
      ['b.webp', 10, 8],
    ]);
    // HR keeps the top-left 20x16 of the source; the first row of the red plane is the source's.
    expect(first[0]!.hr[1]).toBe(raw[3]);
    expect(first[0]!.hr.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect((await readdir(path.join(cacheDir, 'hrlr-v1'))).length).toBe(2);
    const again = await loadHrFolder(dir, { scale: 2, cacheDir });
    expect(Array.from(again[1]!.lr)).toEqual(Array.from(first[1]!.lr));
    expect(Array.from(again[1]!.hr)).toEqual(Array.from(first[1]!.hr));
  });

  it('reads NAME_HR/NAME_LR pairs and names a missing partner', async () => {
    const rng = Rng.seeded(4);
    const px = (w: number, h: number) =>
      sharp(Buffer.from(Uint8Array.from({ length: w * h * 3 }, () => rng.int(256))), { raw: { width: w, height: h, channels: 3 } });
    await px(12, 8).png().toFile(path.join(dir, 'x_HR.png'));
    await px(6, 4).png().toFile(path.join(dir, 'x_LR.png'));
    const { scale, images: got } = await loadPairedFolder(dir);
    expect(scale).toBe(2);
    expect(got.map((im) => [im.name, im.width, im.height])).toEqual([['x', 6, 4]]);
    await expect(loadPairedFolder(dir, 3)).rejects.toThrow(/expected x3/);
    await px(8, 8).png().toFile(path.join(dir, 'y_HR.png'));
    await expect(loadPairedFolder(dir)).rejects.toThrow(/no matching y_LR/);
  });
});
