import { describe, expect, test } from 'vitest';
import { imresizeBicubic, imresizeBicubicTo, SR_BENCHMARK_LR, type ResizeOptions } from '../../engine/image/resize';
import type { PlanarImage } from '../../engine/image/planar';

function image(width: number, height: number, channels: number, f: (c: number, y: number, x: number) => number): PlanarImage {
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = f(c, y, x);
  return { width, height, channels, data };
}

const at = (img: PlanarImage, c: number, y: number, x: number) => img.data[(c * img.height + y) * img.width + x]!;

/** Deterministic pseudo-random values in [0, 1). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const modes: [string, ResizeOptions][] = [
  ['replicate', {}],
  ['symmetric', { edge: 'symmetric' }],
  ['benchmark uint8', SR_BENCHMARK_LR],
];

describe('imresizeBicubic', () => {
  test('output size is ceil(size * scale), as MATLAB computes it', () => {
    const img = image(7, 5, 3, () => 0.5);
    expect([imresizeBicubic(img, 0.5).width, imresizeBicubic(img, 0.5).height]).toEqual([4, 3]);
    expect([imresizeBicubic(img, 1 / 3).width, imresizeBicubic(img, 1 / 3).height]).toEqual([3, 2]);
    expect([imresizeBicubic(img, 0.25).width, imresizeBicubic(img, 0.25).height]).toEqual([2, 2]);
    expect([imresizeBicubic(img, 2).width, imresizeBicubic(img, 2).height]).toEqual([14, 10]);
    const big = image(510, 255, 1, () => 0);
    expect([imresizeBicubic(big, 1 / 3).width, imresizeBicubic(big, 1 / 3).height]).toEqual([170, 85]);
  });

  test.each(modes)('a constant image stays constant (%s)', (_name, opts) => {
    const img = image(23, 17, 3, (c) => [0.2, 0.6, 1][c]!);
    for (const scale of [0.5, 1 / 3, 0.25, 2]) {
      const out = imresizeBicubic(img, scale, opts);
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < out.width * out.height; i++) expect(out.data[c * out.width * out.height + i]).toBeCloseTo([0.2, 0.6, 1][c]!, 6);
      }
    }
  });

  test.each([2, 3, 4])('x%i downscale of a linear ramp samples it at the output pixel centres', (k) => {
    // MATLAB maps output pixel j (1-based) to input position u = k*j + 0.5*(1 - k); the kernel taps lie
    // symmetrically around u, so away from the borders a ramp comes out exactly linear.
    const w = 24 * k;
    const ramp = image(w, 2 * k, 1, (_c, _y, x) => (x + 1) / w);
    const out = imresizeBicubic(ramp, 1 / k);
    const margin = 3;
    for (let j = 1 + margin; j <= out.width - margin; j++) {
      expect(at(out, 0, 0, j - 1)).toBeCloseTo((k * j + 0.5 * (1 - k)) / w, 6);
    }
    // At the border the replicated edge pixel stands in for the ramp's continuation, so it bends.
    expect(Math.abs(at(out, 0, 0, 0) - (0.5 * (1 + k)) / w)).toBeGreaterThan(1e-5);
  });

  test('x2 upscale of a vertical ramp is linear inside (bicubic reproduces linear functions)', () => {
    const ramp = image(4, 20, 1, (_c, y) => y / 19);
    const out = imresizeBicubic(ramp, 2);
    for (let j = 5; j <= out.height - 4; j++) expect(at(out, 0, j - 1, 1)).toBeCloseTo((j / 2 + 0.25 - 1) / 19, 6);
  });

  test('matches a direct (non-separable) evaluation of the MATLAB formula, both edge modes', () => {
    const rnd = noise(7);
    const img = image(13, 11, 2, () => rnd());
    const cubic = (t: number) => {
      const a = Math.abs(t);
      return a <= 1 ? 1.5 * a ** 3 - 2.5 * a ** 2 + 1 : a <= 2 ? -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2 : 0;
    };
    // Weights of output pixel j (1-based) over all input pixels, edges folded in.
    const weights = (n: number, j: number, s: number, edge: 'replicate' | 'symmetric') => {
      const u = j / s + 0.5 * (1 - 1 / s);
      const w = new Array<number>(n).fill(0);
      let total = 0;
      for (let i = Math.floor(u - 10); i <= Math.ceil(u + 10); i++) {
        const v = s < 1 ? s * cubic(s * (u - i)) : cubic(u - i);
        let m = i;
        if (edge === 'replicate') m = Math.min(Math.max(i, 1), n);
        else while (m < 1 || m > n) m = m < 1 ? 1 - m : 2 * n + 1 - m;
        w[m - 1]! += v;
        total += v;
      }
      return w.map((v) => v / total);
    };
    for (const edge of ['replicate', 'symmetric'] as const) {
      for (const s of [0.5, 1 / 3, 2]) {
        const out = imresizeBicubic(img, s, { edge });
        for (let c = 0; c < 2; c++) {
          for (let y = 1; y <= out.height; y++) {
            const wy = weights(img.height, y, s, edge);
            for (let x = 1; x <= out.width; x++) {
              const wx = weights(img.width, x, s, edge);
              let ref = 0;
              for (let i = 0; i < img.height; i++) for (let j = 0; j < img.width; j++) ref += wy[i]! * wx[j]! * at(img, c, i, j);
              expect(at(out, c, y - 1, x - 1)).toBeCloseTo(ref, 5);
            }
          }
        }
      }
    }
  });

  test('the edge modes agree away from the borders and differ at them', () => {
    const rnd = noise(3);
    const img = image(40, 40, 1, () => rnd());
    const a = imresizeBicubic(img, 0.5);
    const b = imresizeBicubic(img, 0.5, { edge: 'symmetric' });
    expect(at(a, 0, 10, 10)).toBe(at(b, 0, 10, 10));
    expect(at(a, 0, 0, 10)).not.toBe(at(b, 0, 0, 10));
  });

  test('uint8 mode gives whole 1/255 steps and differs from float by at most rounding', () => {
    const rnd = noise(11);
    const img = image(30, 30, 3, () => Math.round(rnd() * 255) / 255);
    const q = imresizeBicubic(img, 0.5, SR_BENCHMARK_LR);
    const f = imresizeBicubic(img, 0.5);
    let maxDiff = 0;
    for (let i = 0; i < q.data.length; i++) {
      const v = q.data[i]! * 255;
      expect(Math.abs(v - Math.round(v))).toBeLessThan(1e-4);
      maxDiff = Math.max(maxDiff, Math.abs(q.data[i]! - f.data[i]!) * 255);
    }
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(2);
  });

  test('no antialiasing keeps the plain 4-tap kernel when downscaling', () => {
    // Output 10 (0-based) sits at input 20.5: the plain kernel reaches 2 pixels, the widened one 4,
    // so an impulse at 17 only shows up with antialiasing.
    const img = image(32, 1, 1, (_c, _y, x) => (x === 17 ? 1 : 0));
    const plain = imresizeBicubic(img, 0.5, { antialiasing: false });
    const wide = imresizeBicubic(img, 0.5);
    expect(at(plain, 0, 0, 10)).toBe(0);
    expect(at(wide, 0, 0, 10)).not.toBe(0);
  });

  test('imresizeBicubicTo resizes each dimension by its own factor', () => {
    const img = image(20, 10, 1, () => 0.3);
    const out = imresizeBicubicTo(img, 10, 20);
    expect([out.width, out.height]).toEqual([10, 20]);
    expect(out.data.every((v) => Math.abs(v - 0.3) < 1e-6)).toBe(true);
  });

  test('bad arguments are refused naming the argument', () => {
    const img = image(4, 4, 1, () => 0);
    expect(() => imresizeBicubic(img, 0)).toThrow(/scale/);
    expect(() => imresizeBicubic(img, Number.NaN)).toThrow(/scale/);
    expect(() => imresizeBicubicTo(img, 3.5, 2)).toThrow(/width/);
    expect(() => imresizeBicubic({ ...img, data: new Float32Array(3) }, 0.5)).toThrow(/3 values/);
  });
});
