/**
 * Metrics and resize together: bicubic x2 upsampling of the ../shared LR images, scored with the
 * SR protocol, must give the README's figures (Set5 33.67 dB, Set14 30.33 dB PSNR-Y).
 */
import { describe, expect, test } from 'vitest';
import { planarToUint8 } from '../../engine/image/planar';
import { imresizeBicubic, SR_BENCHMARK_LR, type ResizeOptions } from '../../engine/image/resize';
import { evaluatePair, meanScore, type PairScore } from '../../engine/metrics/evaluate';
import { sharedAvailable } from '../helpers/shared';
import { loadPlanarRgb, loadRgb8, pairIds } from './bicubic-data';

const available = sharedAvailable('bicubic PSNR golden (datasets/Set5, Set14)');

async function bicubicScores(set: string, opts: ResizeOptions): Promise<PairScore[]> {
  const scores: PairScore[] = [];
  for (const p of pairIds(set, 'x2')) {
    const sr = planarToUint8(imresizeBicubic(await loadPlanarRgb(p.lr), 2, opts));
    scores.push(evaluatePair(sr, await loadRgb8(p.hr), 2));
  }
  return scores;
}

describe.runIf(available)('bicubic x2 baseline on ../shared benchmarks', () => {
  test.each([
    ['Set5', 33.67, 5],
    ['Set14', 30.33, 14],
  ] as const)('%s: mean PSNR-Y %f dB (±0.01), float and uint8 resize', async (set, expected, count) => {
    for (const [mode, opts] of [
      ['float', {}],
      ['uint8', SR_BENCHMARK_LR],
    ] as const) {
      const scores = await bicubicScores(set, opts);
      const mean = meanScore(scores);
      console.log(`${set} x2 bicubic (${mode}): PSNR-Y ${mean.psnr.toFixed(4)} dB, SSIM-Y ${mean.ssim.toFixed(5)}`);
      expect(scores).toHaveLength(count);
      expect(Math.abs(mean.psnr - expected)).toBeLessThanOrEqual(0.01);
      expect(mean.ssim).toBeGreaterThan(0.8);
      expect(mean.ssim).toBeLessThan(1);
    }
  });
});
