/**
 * MATLAB-compatible bicubic downscaling reproduces the benchmark LR images in ../shared
 * (made by MATLAB imresize from NNN_HR.png): float mode to a small mean absolute difference,
 * SR_BENCHMARK_LR (uint8 passes, replicated edges) bit for bit.
 */
import { describe, expect, test } from 'vitest';
import { planarToUint8 } from '../../engine/image/planar';
import { imresizeBicubic, SR_BENCHMARK_LR, type ResizeOptions } from '../../engine/image/resize';
import { sharedAvailable } from '../helpers/shared';
import { loadPlanarRgb, loadRgb8, pairIds } from './bicubic-data';

const available = sharedAvailable('bicubic LR golden (datasets/Set5, Set14, BSD100)');

interface LrDiff {
  id: string;
  /** Mean |ours - MATLAB| over all 8-bit values, 0..255 scale. */
  mad: number;
  differing: number;
}

async function compareSet(set: string, scale: number, opts: ResizeOptions): Promise<LrDiff[]> {
  const rows: LrDiff[] = [];
  for (const p of pairIds(set, `x${scale}`)) {
    const ours = planarToUint8(imresizeBicubic(await loadPlanarRgb(p.hr), 1 / scale, opts));
    const ref = await loadRgb8(p.lr);
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    let sum = 0;
    let differing = 0;
    for (let i = 0; i < ref.data.length; i++) {
      const d = Math.abs(ours.data[i]! - ref.data[i]!);
      sum += d;
      if (d !== 0) differing++;
    }
    rows.push({ id: p.id, mad: sum / ref.data.length, differing });
  }
  expect(rows.length).toBeGreaterThan(0);
  return rows;
}

function summary(rows: LrDiff[]): { mean: number; worst: LrDiff } {
  const worst = rows.reduce((a, b) => (b.mad > a.mad ? b : a));
  return { mean: rows.reduce((s, r) => s + r.mad, 0) / rows.length, worst };
}

describe.runIf(available)('MATLAB bicubic downscale vs ../shared LR images', () => {
  test.each([
    ['Set5', 'replicate'],
    ['Set5', 'symmetric'],
    ['Set14', 'replicate'],
    ['Set14', 'symmetric'],
  ] as const)('%s x2, float mode, %s edges: mean absolute difference <= 0.25', async (set, edge) => {
    const rows = await compareSet(set, 2, { edge });
    const { mean, worst } = summary(rows);
    console.log(`${set} x2 float ${edge}: MAD mean ${mean.toFixed(4)}, worst ${worst.id} ${worst.mad.toFixed(4)}`);
    expect(mean).toBeLessThanOrEqual(0.25);
    expect(worst.mad).toBeLessThanOrEqual(0.25);
  });

  test.each([
    ['Set5', 2],
    ['Set5', 3],
    ['Set5', 4],
    ['Set14', 2],
    ['Set14', 3],
    ['Set14', 4],
    ['BSD100', 2],
  ] as const)('%s x%i, SR_BENCHMARK_LR: identical to the MATLAB images', async (set, scale) => {
    const rows = await compareSet(set, scale, SR_BENCHMARK_LR);
    const { mean, worst } = summary(rows);
    console.log(`${set} x${scale} benchmark mode: MAD mean ${mean.toFixed(4)}, worst ${worst.id} ${worst.mad.toFixed(4)}`);
    expect(rows.filter((r) => r.differing > 0)).toEqual([]);
  });
});
