import { describe, expect, test } from 'vitest';
import { planarFromInterleaved } from '../../engine/image/planar';
import { evaluatePair, meanOf, meanScore } from '../../engine/metrics/evaluate';
import { lumaY } from '../../engine/metrics/pixels';
import { psnrRgb, psnrY } from '../../engine/metrics/psnr';
import { ssimY } from '../../engine/metrics/ssim';

const rgb = (width: number, height: number, data: Uint8Array) => ({ width, height, channels: 3, data });

/** uint8 values from the top byte of a 32-bit LCG, the same sequence as the Python reference below. */
function lcgBytes(seed: number, n: number): Int32Array {
  let s = seed >>> 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** The pair the Python reference builds: a smoothed noise image and a clipped noisy copy of it. */
function referencePair(): [ReturnType<typeof rgb>, ReturnType<typeof rgb>] {
  const W = 48,
    H = 40;
  const raw = lcgBytes(1, W * H * 3);
  const px = (y: number, x: number, c: number) => raw[(((y + H) % H) * W + ((x + W) % W)) * 3 + c]!;
  const a = new Uint8Array(W * H * 3);
  const b = new Uint8Array(W * H * 3);
  const d = lcgBytes(2, W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * W + x) * 3 + c;
        a[i] = Math.floor((px(y, x, c) + px(y - 1, x, c) + px(y, x - 1, c) + px(y - 1, x - 1, c)) / 4);
        b[i] = Math.min(255, Math.max(0, a[i]! + Math.floor(d[i]! / 4) - 32));
      }
    }
  }
  return [rgb(W, H, a), rgb(W, H, b)];
}

describe('SR metrics', () => {
  test('identical images: PSNR is Infinity, SSIM is 1', () => {
    const [a] = referencePair();
    expect(psnrY(a, a)).toBe(Infinity);
    expect(psnrRgb(a, a, { crop: 2 })).toBe(Infinity);
    expect(ssimY(a, a)).toBeCloseTo(1, 12);
    expect(evaluatePair(a, a, 2)).toEqual({ psnr: Infinity, ssim: expect.closeTo(1, 12) });
  });

  test('a constant offset d gives the analytic PSNR (RGB: 255/d; Y: scaled by 219/255)', () => {
    const n = 20 * 16 * 3;
    const a = rgb(
      20,
      16,
      new Uint8Array(n).map((_, i) => 50 + (i % 100)),
    );
    const b = rgb(
      20,
      16,
      a.data.map((v) => v + 3),
    );
    expect(psnrRgb(a, b)).toBeCloseTo(20 * Math.log10(255 / 3), 10);
    // Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, and the coefficients sum to 219.
    expect(psnrY(a, b)).toBeCloseTo(20 * Math.log10(255 / ((3 * 219) / 255)), 10);
  });

  test('Y is MATLAB rgb2ycbcr: black 16, white 235, grey counts as R = G = B', () => {
    const px = rgb(3, 1, new Uint8Array([0, 0, 0, 255, 255, 255, 255, 0, 0]));
    expect(Array.from(lumaY(px, 0).data)).toEqual([16, 235, 16 + 65.481].map((v) => expect.closeTo(v, 10)));
    const grey = { width: 3, height: 1, channels: 1, data: new Uint8Array([0, 255, 100]) };
    expect(lumaY(grey, 0).data[2]).toBeCloseTo(16 + (219 * 100) / 255, 10);
  });

  test('matches a scipy reference (BasicSR protocol) on a noisy pair, with and without crop', () => {
    // Reference numbers from numpy 2.4.6 / scipy 1.17.1 (`python3 ssim_ref.py`):
    //   W, H = 48, 40; lcg_bytes(seed, n): s = (1664525*s + 1013904223) % 2**32, value s >> 24
    //   a = lcg_bytes(1, W*H*3).reshape(H, W, 3); a = (a + roll(a,1,0) + roll(a,1,1) + roll(roll(a,1,0),1,1)) // 4
    //   b = clip(a + lcg_bytes(2, W*H*3).reshape(H, W, 3) // 4 - 32, 0, 255)
    //   y(img) = 16 + (img[crop:H-crop, crop:W-crop] / 255) @ [65.481, 128.553, 24.966]   (float64)
    //   g = exp(-(arange(11)-5)**2 / (2*1.5**2)); g /= g.sum(); win = outer(g, g)
    //   f(t) = scipy.ndimage.correlate(t, win, mode='constant')[5:-5, 5:-5]
    //   ssim = mean(((2 m1 m2 + C1)(2 s12 + C2)) / ((m1² + m2² + C1)(s11 + s22 + C2))), C1 = 6.5025, C2 = 58.5225
    //   crop 0: ssimY 0.878832353709514 psnrY 27.497497048026 psnrRgb 22.750783813595
    //   crop 2: ssimY 0.881481946748881 psnrY 27.448672215720 psnrRgb 22.725660345308
    const [a, b] = referencePair();
    expect(ssimY(a, b)).toBeCloseTo(0.878832353709514, 12);
    expect(psnrY(a, b)).toBeCloseTo(27.497497048026, 10);
    expect(psnrRgb(a, b)).toBeCloseTo(22.750783813595, 10);
    expect(ssimY(a, b, { crop: 2 })).toBeCloseTo(0.881481946748881, 12);
    expect(psnrY(a, b, { crop: 2 })).toBeCloseTo(27.44867221572, 10);
    expect(psnrRgb(a, b, { crop: 2 })).toBeCloseTo(22.725660345308, 10);
    expect(evaluatePair(a, b, 2)).toEqual({ psnr: expect.closeTo(27.44867221572, 10), ssim: expect.closeTo(0.881481946748881, 12) });
  });

  test('planar float inputs are clamped and rounded to uint8 first', () => {
    const [a, b] = referencePair();
    const pa = planarFromInterleaved(a);
    // Nudge every value by less than half a step, and push some out of range: quantising undoes both.
    const nudged = { ...pa, data: pa.data.map((v, i) => (v === 0 ? -0.3 : v === 1 ? 1.2 : v + (((i % 3) - 1) * 0.4) / 255)) };
    expect(psnrY(nudged, b)).toBe(psnrY(a, b));
    expect(ssimY(nudged, b, { crop: 2 })).toBe(ssimY(a, b, { crop: 2 }));
  });

  test('the crop drops exactly `crop` pixels from each border', () => {
    const [a] = referencePair();
    const b = rgb(a.width, a.height, a.data.slice());
    for (let x = 0; x < a.width; x++) {
      const i = ((a.height - 2) * a.width + x) * 3; // second-to-last row
      b.data[i] = b.data[i]! ^ 0x40;
    }
    expect(psnrY(a, b, { crop: 1 })).toBeLessThan(60);
    expect(psnrY(a, b, { crop: 2 })).toBe(Infinity);
  });

  test('mismatched shapes and oversized crops are refused', () => {
    const [a] = referencePair();
    expect(() => psnrY(a, rgb(47, 40, new Uint8Array(47 * 40 * 3)))).toThrow(/differ in shape/);
    expect(() => ssimY(a, a, { crop: 15 })).toThrow(/crop 15 leaves less than 11/);
    expect(() => psnrY(a, a, { crop: -1 })).toThrow(/crop/);
    expect(() => psnrY({ width: 2, height: 2, channels: 4, data: new Uint8Array(16) }, a)).toThrow(/1 or 3 channels/);
  });

  test('meanOf / meanScore average per-image scores', () => {
    expect(meanOf([30, 32, 34])).toBe(32);
    expect(() => meanOf([])).toThrow(/no values/);
    expect(
      meanScore([
        { psnr: 30, ssim: 0.8 },
        { psnr: 32, ssim: 0.9 },
      ]),
    ).toEqual({ psnr: 31, ssim: expect.closeTo(0.85, 12) });
  });

  test('SSIM of a 512x512 pair takes under 100 ms of CPU time', () => {
    // CPU time, best of 3: the machine is shared, so wall time measures the neighbours too.
    const n = 512;
    const a = rgb(
      n,
      n,
      new Uint8Array(n * n * 3).map((_, i) => (i * 7919) % 256),
    );
    const b = rgb(
      n,
      n,
      a.data.map((v, i) => (v + (i % 13)) % 256),
    );
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = process.cpuUsage();
      ssimY(a, b, { crop: 2 });
      const d = process.cpuUsage(t);
      times.push((d.user + d.system) / 1000);
    }
    expect(Math.min(...times)).toBeLessThan(100);
  });
});
