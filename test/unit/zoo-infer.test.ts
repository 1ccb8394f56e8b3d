import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOnnx } from '../../engine/graph/onnx';
import type { PlanarImage } from '../../engine/image/planar';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { buildModel, modelParamShapes } from '../../engine/zoo/build';
import { exportModel } from '../../engine/zoo/export';
import { cardFromOnnx, ImageModel, weightsFromOnnx } from '../../engine/zoo/infer';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';

function image(width: number, height: number): PlanarImage {
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) / 100;
  return { width, height, channels: 3, data };
}

function maxAbsDiff(a: PlanarImage, b: PlanarImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-zoo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exported(preset: string, tile?: number) {
  const config = presetConfig(preset);
  const weights = randomWeights(config, 5);
  const file = path.join(dir, `${preset}.safetensors`);
  await saveSafetensors(file, weights);
  return { config, weights, ...(await exportModel({ config, preset, weightsPath: file, ...(tile ? { tile } : {}) })) };
}

describe('exported models run on whole images', () => {
  it('EDSR: symbolic-size and static-tile exports give the same pixels as the weights', async () => {
    const img = image(13, 9);
    const dyn = await exported('edsr-mini');
    const stat = await exported('edsr-mini', 16);
    expect(dyn.card.tile).toBe('dynamic');
    expect(stat.card.tile).toEqual({ height: 16, width: 16 });
    expect(stat.card.weights!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const ref = await ImageModel.fromWeights(dyn.config, dyn.weights);
    const expected = await ref.upscale(img);
    expect([expected.width, expected.height]).toEqual([26, 18]);
    for (const bytes of [dyn.onnx, stat.onnx]) {
      const m = await ImageModel.fromOnnx(bytes);
      expect(maxAbsDiff(await m.upscale(img), expected)).toBeLessThan(1e-5);
      await m.release();
    }
    await ref.release();
  });

  it('SwinIR: pads to the window by mirroring and crops the output back', async () => {
    const { config, weights, onnx, card } = await exported('swinir-mini', 16);
    expect(card.inputMultiple).toBe(8);
    expect(weightsFromOnnx(onnx, config).get('conv_first.weight')!.data).toEqual(weights.get('conv_first.weight')!.data);
    const img = image(20, 12);
    const m = await ImageModel.fromOnnx(onnx);
    const out = await m.upscale(img);
    expect([out.width, out.height]).toEqual([40, 24]);
    // As the official SwinIR test script: flip-pad bottom/right to the window multiple, run, crop.
    const padded = await m.upscale(flipPad(img, 24, 16));
    expect(maxAbsDiff(out, cropTo(padded, 40, 24))).toBe(0);
    await m.release();
    const ref = await ImageModel.fromWeights(config, weights);
    expect(maxAbsDiff(await ref.upscale(img), out)).toBe(0);
    await ref.release();
  });

  it('refuse ONNX files without a minisr card, and weights of another shape', () => {
    const config = presetConfig('edsr-mini');
    const bare = toOnnx(buildModel(config, { height: 4, width: 4 }).graph, { params: 'initializers', weights: randomWeights(config) });
    expect(() => cardFromOnnx(bare)).toThrow(/no minisr\.card metadata/);
    expect(() => weightsFromOnnx(bare, presetConfig('edsr-baseline'))).toThrow(
      /conv_first\.weight: type 1 \[16, 3, 3, 3\], expected float \[64, 3, 3, 3\]/,
    );
    expect(() => cardFromOnnx(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not a valid ONNX model/);
  });

  it('partial: the tensors an x4 network shares with an x2 model, the rest left out', () => {
    const x2 = presetConfig('edsr-mini');
    const weights = randomWeights(x2);
    const bytes = toOnnx(buildModel(x2, { height: 4, width: 4 }).graph, { params: 'initializers', weights });
    const x4 = presetConfig('edsr-mini', { scale: 4 });
    expect(() => weightsFromOnnx(bytes, x4)).toThrow(/initializer/);
    const sd = weightsFromOnnx(bytes, x4, { partial: true });
    const x4Keys = [...modelParamShapes(x4).keys()];
    expect([...sd.keys()]).toEqual(x4Keys.filter((k) => !k.startsWith('upsample.2.')));
    expect(sd.get('upsample.0.weight')!.data).toEqual(weights.get('upsample.0.weight')!.data);
  });
});

/** torch.cat([x, torch.flip(x, [dim])], dim) then cut to size, along H and W. */
function flipPad(img: PlanarImage, w: number, h: number): PlanarImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sy = y < img.height ? y : 2 * img.height - 1 - y;
        const sx = x < img.width ? x : 2 * img.width - 1 - x;
        data[(c * h + y) * w + x] = img.data[(c * img.height + sy) * img.width + sx]!;
      }
  return { width: w, height: h, channels: 3, data };
}

function cropTo(img: PlanarImage, w: number, h: number): PlanarImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      data.set(img.data.subarray((c * img.height + y) * img.width, (c * img.height + y) * img.width + w), (c * h + y) * w);
  return { width: w, height: h, channels: 3, data };
}
