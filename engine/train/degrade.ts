import sharp from 'sharp';
import type { Batch } from './crops';
import { Rng } from './rng';

/**
 * Photo degradation of the LR inputs, on the fly: what phone and web photos carry that bicubic
 * LR does not. Per sample, in the order a camera and a website apply them: a slight Gaussian
 * blur (optics, resampling), mild Gaussian noise (sensor), then JPEG at a random quality (always:
 * the photos people drop in are JPEGs) through sharp (libjpeg-turbo, 4:2:0). Targets (HR and the
 * teacher's output) stay clean, so the model learns to undo them. Each draw comes from the seed's
 * stream for (step, sample): batch k is the same bytes in a worker, in this thread and after a
 * resume.
 */

export interface DegradeConfig {
  /** JPEG quality range, inclusive. */
  jpeg: readonly [number, number];
  /** Max noise sigma in 8-bit levels; applied to half the samples, sigma uniform in (0, max]. */
  noise: number;
  /** Max blur sigma in LR pixels; applied to half the samples, sigma uniform in [0.3, max] (sharp's minimum is 0.3). */
  blur: number;
  /**
   * Fraction of samples left clean (bicubic LR as is), so that a photo model keeps its quality on
   * clean inputs; 0 or absent: every sample degraded (and the draws are those of runs made before
   * this field existed).
   */
  clean?: number;
}

/** The photo variants' degradation (edsr-mini-x2-photo). */
export const PHOTO_DEGRADE: DegradeConfig = { jpeg: [50, 95], noise: 5, blur: 1 };

export const STREAM_DEGRADE = 3;

/** One sample's draws: what the pipeline applies. */
export interface Degradation {
  quality: number;
  noise: number;
  blur: number;
}

/** The sample's degradation, or null for a sample left clean (`cfg.clean`). */
export function drawDegradation(cfg: DegradeConfig, rng: Rng): Degradation | null {
  // Drawn only when asked for, so that runs without `clean` keep their streams (and resume alike).
  if (cfg.clean && rng.next() < cfg.clean) return null;
  const quality = cfg.jpeg[0] + rng.int(cfg.jpeg[1] - cfg.jpeg[0] + 1);
  const noise = rng.next() < 0.5 && cfg.noise > 0 ? rng.uniform(0, cfg.noise) : 0;
  const blur = rng.next() < 0.5 && cfg.blur >= 0.3 ? rng.uniform(0.3, cfg.blur) : 0;
  return { quality, noise, blur };
}

/** Degrades one planar float [0,1] RGB patch (p x p) in place. */
async function degradePatch(planar: Float32Array, p: number, d: Degradation, rng: Rng): Promise<void> {
  const n = p * p;
  let px = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.max(0, Math.min(255, Math.round(planar[c * n + i]! * 255)));
  const raw = { raw: { width: p, height: p, channels: 3 as const } };
  if (d.blur > 0) px = await sharp(px, raw).blur(d.blur).raw().toBuffer();
  if (d.noise > 0) for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(255, Math.round(px[i]! + d.noise * rng.normal())));
  const jpeg = await sharp(px, raw).jpeg({ quality: d.quality }).toBuffer();
  const out = await sharp(jpeg).removeAlpha().raw().toBuffer();
  if (out.length !== 3 * n) throw new Error(`degrade: JPEG round trip gave ${out.length} bytes for a ${p}x${p} patch`);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planar[c * n + i] = out[i * 3 + c]! / 255;
}

/** The batch with every LR patch degraded (a new LR array; HR and teacher untouched). */
export async function degradeBatch(batch: Batch, patch: number, cfg: DegradeConfig, seed: number): Promise<Batch> {
  const size = 3 * patch * patch;
  const lr = Float32Array.from(batch.lr);
  const count = lr.length / size;
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const rng = Rng.seeded(seed, STREAM_DEGRADE, batch.step, i);
      const d = drawDegradation(cfg, rng);
      return d ? degradePatch(lr.subarray(i * size, (i + 1) * size), patch, d, rng) : undefined;
    }),
  );
  return { ...batch, lr };
}
