import type { MetricImage } from './pixels';
import { psnrY } from './psnr';
import { ssimY } from './ssim';

export interface PairScore {
  /** PSNR-Y in dB. */
  psnr: number;
  /** SSIM-Y. */
  ssim: number;
}

/** The SR benchmark protocol for one image: Y-channel PSNR and SSIM with `scale` pixels cropped. */
export function evaluatePair(sr: MetricImage, hr: MetricImage, scale: number): PairScore {
  return { psnr: psnrY(sr, hr, { crop: scale }), ssim: ssimY(sr, hr, { crop: scale }) };
}

/** Arithmetic mean (the benchmark aggregates per-image scores this way); throws on an empty list. */
export function meanOf(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('meanOf: no values');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Per-field means of a list of pair scores. */
export function meanScore(scores: readonly PairScore[]): PairScore {
  return { psnr: meanOf(scores.map((s) => s.psnr)), ssim: meanOf(scores.map((s) => s.ssim)) };
}
