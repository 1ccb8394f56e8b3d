/**
 * Teacher crops in distillation batches line up with the HR crops: the real EDSR-baseline
 * teacher on the first train291 images, crops from makeBatch under each of the 8 dihedral
 * transforms. The teacher crop must match the batch's HR crop far better than an HR crop
 * shifted by one HR pixel (a misaligned cache, a transform applied to one of the two only, or a
 * teacher fed another LR would all break this).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cropInto, makeBatch, pickCrops, type CropSpec } from '../../engine/train/crops';
import { loadHrFolder } from '../../engine/train/dataset';
import { attachTeacherOutputs } from '../../engine/train/teacher';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const available = sharedAvailable('teacher crop alignment (datasets/train291, weights/edsr_baseline_x2.pth)');

function psnr(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, n: number): number {
  let se = 0;
  for (let i = 0; i < n; i++) se += (a[aOffset + i]! - b[bOffset + i]!) ** 2;
  return 10 * Math.log10(1 / (se / n));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.runIf(available)('teacher crops in distillation batches', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('line up with the HR crops under all 8 transforms (1 px shifts are much worse)', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-align-'));
    const cacheDir = path.join(dir, 'cache');
    const teacher = { type: 'preset' as const, preset: 'edsr-baseline', weights: sharedPath('weights/edsr_baseline_x2.pth') };
    const images = await attachTeacherOutputs(
      await loadHrFolder(sharedPath('datasets/train291'), { scale: 2, cacheDir, limit: 3 }),
      teacher,
      { cacheDir, scale: 2 },
    );
    const spec: CropSpec = { batch: 16, patch: 16, scale: 2, augment: true, seed: 5 };
    const P = spec.patch * spec.scale;
    const n = 3 * P * P;
    const shifts = [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ] as const;
    // per transform: PSNR(teacher crop, HR crop) and the same against each shifted HR crop
    const aligned = new Map<number, number[]>();
    const shifted = new Map<number, number[][]>();
    const hrShifted = new Float32Array(n);
    for (let step = 0; step < 12; step++) {
      const b = makeBatch(images, spec, step);
      pickCrops(images, spec, step).forEach((pick, i) => {
        const im = images[pick.image]!;
        const W = im.width * spec.scale;
        const H = im.height * spec.scale;
        const x = pick.x * spec.scale;
        const y = pick.y * spec.scale;
        if (x < 1 || y < 1 || x + P + 1 > W || y + P + 1 > H) return;
        (aligned.get(pick.transform) ?? aligned.set(pick.transform, []).get(pick.transform)!).push(psnr(b.teacher!, i * n, b.hr, i * n, n));
        const rows =
          shifted.get(pick.transform) ??
          shifted
            .set(
              pick.transform,
              shifts.map(() => []),
            )
            .get(pick.transform)!;
        shifts.forEach(([dx, dy], k) => {
          cropInto(im.hr, W, H, x + dx, y + dy, P, pick.transform, hrShifted, 0);
          rows[k]!.push(psnr(b.teacher!, i * n, hrShifted, 0, n));
        });
      });
    }
    expect([...aligned.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const [t, values] of [...aligned].sort((a, b) => a[0] - b[0])) {
      const at0 = mean(values);
      const best = Math.max(...shifted.get(t)!.map(mean));
      console.log(`transform ${t}: ${values.length} crops, PSNR(teacher, HR) ${at0.toFixed(2)} dB, best 1 px shift ${best.toFixed(2)} dB`);
      expect(at0).toBeGreaterThan(30);
      expect(at0).toBeGreaterThan(best + 3);
    }
  }, 120_000);
});
