import { describe, expect, it, afterAll } from 'vitest';
import { float32Tensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { SessionCache } from '../../engine/runtime/cache';
import { exportOnnx } from '../../engine/zoo/build';
import { validateConfig } from '../../engine/zoo/registry';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights as zooRandomWeights } from '../../engine/zoo/random-weights';
import { ImageModel } from '../../engine/zoo/infer';
import { modelFromWeights, type UpscaleModel } from '../../engine/upscale/model';
import { mirrorIndex, planAxis, tileStarts } from '../../engine/upscale/tiler';
import { planarBandSource, planarSink } from '../../engine/upscale/bands';
import { runPass } from '../../engine/upscale/pass';
import type { PlanarImage } from '../../engine/image/planar';
import { randomImage, randomWeights } from './upscale-helpers';

const config = validateConfig({ family: 'edsr', num_feat: 8, num_block: 3, res_scale: 1 });
const weights = randomWeights(config);
const model: UpscaleModel = modelFromWeights('edsr-test', config, weights);
const sessions = new SessionCache(8);
afterAll(() => sessions.clear());

async function untiled(img: PlanarImage): Promise<Float32Array> {
  const s = await ModelSession.create(exportOnnx(config, weights, { height: img.height, width: img.width }));
  try {
    const out = await s.run({ input: float32Tensor([1, 3, img.height, img.width], img.data) });
    return out.output!.data as Float32Array;
  } finally {
    await s.release();
  }
}

async function tiled(img: PlanarImage, tile: number, overlap: number): Promise<Float32Array> {
  const sink = planarSink(img.width * 2, img.height * 2, false);
  await runPass(planarBandSource(img), sink, { model, sessions, ep: 'cpu', tile, overlap });
  return sink.rgb.data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('tile placement', () => {
  it('places tiles inside the axis, the last one ending at the border', () => {
    expect(tileStarts(100, 40, 5)).toEqual([0, 30, 60]);
    expect(tileStarts(101, 40, 5)).toEqual([0, 30, 60, 61]);
    expect(tileStarts(40, 40, 5)).toEqual([0]);
    expect(() => tileStarts(100, 40, 20)).toThrow(RangeError);
  });

  it('blend weights sum to 1 at every output pixel and vanish within the radius of inner edges', () => {
    for (const [length, tile, overlap, radius] of [
      [101, 40, 5, 3],
      [300, 64, 12, 12],
      [97, 32, 8, undefined],
    ] as const) {
      const p = planAxis({ length, tile, overlap, scale: 2, ...(radius !== undefined ? { radius } : {}) });
      const sum = new Float64Array(length * 2);
      p.weights.forEach((w, i) => w.forEach((v, x) => (sum[p.starts[i]! * 2 + x]! += v)));
      for (const v of sum) expect(v).toBeCloseTo(1, 6);
      if (radius !== undefined) {
        p.weights.forEach((w, i) => {
          if (i > 0) for (let x = 0; x < radius * 2; x++) expect(w[x]).toBe(0);
          if (i < p.starts.length - 1) for (let x = w.length - radius * 2; x < w.length; x++) expect(w[x]).toBe(0);
        });
      }
    }
  });

  it('mirrors indices with the edge repeated, at any distance', () => {
    expect([-3, -1, 0, 4, 5, 6, 9, 10, 12].map((i) => mirrorIndex(i, 5))).toEqual([2, 0, 0, 4, 4, 3, 0, 0, 2]);
    expect(mirrorIndex(7, 1)).toBe(0);
  });
});

describe('tiled upscaling equals whole-image upscaling (EDSR, random weights)', () => {
  const R = model.receptiveRadius!;
  it('model radius is known for EDSR', () => expect(R).toBe(1 + 2 * 3 + 1 + 1 + 1 + 1));

  for (const [w, h, tile] of [
    [96, 80, 40], // several tiles both ways
    [83, 61, 36], // sizes that are not multiples of anything
    [130, 45, 48], // last tiles shifted, wide image
    [30, 22, 64], // image smaller than a tile
  ] as const) {
    it(`${w}x${h}, tile ${tile}, overlap = radius: max |tiled - untiled| < 1e-3 over the whole image`, async () => {
      const img = randomImage(w, h, w * 31 + h);
      const ref = await untiled(img);
      const out = await tiled(img, tile, Math.min(R, Math.floor((tile - 1) / 2)));
      expect(maxAbsDiff(out, ref)).toBeLessThan(1e-3);
    });
  }

  it('SwinIR (window 8): an image smaller than a tile is padded to the window by mirroring, as the whole-image pass does', async () => {
    const swin = presetConfig('swinir-mini');
    const sw = zooRandomWeights(swin, 3, 0.05);
    const sm = modelFromWeights('swinir-test', swin, sw);
    const img = randomImage(37, 29, 5);
    const sink = planarSink(74, 58, false);
    await runPass(planarBandSource(img), sink, { model: sm, sessions, ep: 'cpu', tile: 64 });
    const whole = await ImageModel.fromWeights(swin, sw);
    const ref = await whole.upscale(img);
    await whole.release();
    expect(maxAbsDiff(sink.rgb.data, ref.data)).toBeLessThan(1e-4);
  });

  it('with too little overlap the seams show (the test can fail)', async () => {
    const img = randomImage(96, 80, 7);
    const ref = await untiled(img);
    const out = await tiled(img, 40, 2);
    expect(maxAbsDiff(out, ref)).toBeGreaterThan(1e-3);
  });
});
