import sharp from 'sharp';
import { float32Tensor, type StateDict } from '../../engine/io/tensor';
import type { PlanarImage } from '../../engine/image/planar';
import { modelParamShapes } from '../../engine/zoo/build';
import { validateConfig, type ModelConfig } from '../../engine/zoo/registry';
import { modelFromWeights, type UpscaleModel } from '../../engine/upscale/model';

/** Test helpers for the upscaler: seeded random weights, images and tiny models. */

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * He-scaled uniform weights: activations stay O(1) through the blocks (zoo/random-weights.ts
 * uses a fixed +-0.05, which shrinks them), so a seam of the tiler shows up as a large error.
 */
export function randomWeights(config: ModelConfig, seed = 1): StateDict {
  const r = rng(seed);
  const sd: StateDict = new Map();
  for (const [key, shape] of modelParamShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape[1]! * shape[2]! * shape[3]! : 1;
    const std = shape.length === 4 ? Math.sqrt(1 / fanIn) : 0.05;
    sd.set(
      key,
      float32Tensor(
        shape,
        Float32Array.from({ length: n }, () => (r() * 2 - 1) * std * Math.sqrt(3)),
      ),
    );
  }
  return sd;
}

export function randomImage(width: number, height: number, seed: number): PlanarImage {
  const r = rng(seed);
  // Smooth-ish content plus noise: like a photo, not white noise only.
  const data = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        data[(c * height + y) * width + x] = 0.5 + 0.3 * Math.sin((x + 3 * c) / 7) * Math.cos(y / 5) + 0.2 * (r() - 0.5);
  return { width, height, channels: 3, data };
}

/** A tiny EDSR (8 features, 2 blocks) with random weights: fast on CPU, exercises every code path. */
export function tinyModel(id = 'tiny'): UpscaleModel {
  const config = validateConfig({ family: 'edsr', num_feat: 8, num_block: 2, res_scale: 1 });
  return modelFromWeights(id, config, randomWeights(config, 3));
}

/** A PNG/JPEG/... of random-ish content written with sharp. */
export async function writeTestImage(
  path: string,
  width: number,
  height: number,
  opts: { channels?: 3 | 4; seed?: number; format?: 'png' | 'jpeg' | 'webp' } = {},
): Promise<void> {
  const channels = opts.channels ?? 3;
  const r = rng(opts.seed ?? width * 7 + height);
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 64 + 96 + 80 * Math.sin(i / 97));
  const s = sharp(data, { raw: { width, height, channels } });
  const f = opts.format ?? 'png';
  await (f === 'png' ? s.png() : f === 'jpeg' ? s.jpeg() : s.webp()).toFile(path);
}
