/**
 * Distillation on real data: EDSR-baseline (../shared/weights/edsr_baseline_x2.pth) teaches
 * EDSRmini on the first train291 images. The teacher runs once per image into the cache, its
 * outputs line up with the HR images (they beat bicubic against HR), and the student's
 * MultiLap + 0.1 L1 loss falls.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imresizeBicubic } from '../../engine/image/resize';
import { meanOf } from '../../engine/metrics/evaluate';
import { psnrY } from '../../engine/metrics/psnr';
import { validateTrainConfig } from '../../engine/train/config';
import { loadHrFolder, planarFromUint8 } from '../../engine/train/dataset';
import { attachTeacherOutputs } from '../../engine/train/teacher';
import { Trainer } from '../../engine/train/trainer';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const available = sharedAvailable('distillation golden (datasets/train291, weights/edsr_baseline_x2.pth)');
const LIMIT = 12;

describe.runIf(available)('distilling EDSR-baseline into EDSRmini', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const teacher = { type: 'preset' as const, preset: 'edsr-baseline', weights: sharedPath('weights/edsr_baseline_x2.pth') };

  it('caches teacher outputs aligned with HR and trains the student on them', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-distill-'));
    const cacheDir = path.join(dir, 'cache');
    const images = await loadHrFolder(sharedPath('datasets/train291'), { scale: 2, cacheDir, limit: LIMIT });
    const withTeacher = await attachTeacherOutputs(images, teacher, { cacheDir, scale: 2 });
    const teacherPsnr = meanOf(
      withTeacher.map((im) =>
        psnrY(planarFromUint8(im.teacher!, 2 * im.width, 2 * im.height), planarFromUint8(im.hr, 2 * im.width, 2 * im.height), { crop: 2 }),
      ),
    );
    const bicubicPsnr = meanOf(
      images.map((im) =>
        psnrY(imresizeBicubic(planarFromUint8(im.lr, im.width, im.height), 2), planarFromUint8(im.hr, 2 * im.width, 2 * im.height), {
          crop: 2,
        }),
      ),
    );
    console.log(
      `distill golden: first ${LIMIT} train291 images, PSNR-Y vs HR: teacher ${teacherPsnr.toFixed(2)} dB, bicubic ${bicubicPsnr.toFixed(2)} dB`,
    );
    expect(teacherPsnr).toBeGreaterThan(bicubicPsnr + 1);
    const [teacherDir] = await readdir(path.join(cacheDir, 'teacher-v1'));
    expect((await readdir(path.join(cacheDir, 'teacher-v1', teacherDir!))).length).toBe(LIMIT);

    const cfg = validateTrainConfig({
      preset: 'edsr-mini',
      data: { dir: sharedPath('datasets/train291'), limit: LIMIT },
      loss: { type: 'distill' },
      teacher,
      steps: 80,
      batch: 8,
      patch: 32,
      optim: { lr: 1e-3 },
      cacheDir,
      seed: 2,
    });
    let lastCacheStatus = '';
    const trainer = new Trainer(cfg, path.join(dir, 'run'), { export: false });
    trainer.on('status', (s) => {
      if (s.phase === 'teacher-cache') lastCacheStatus = s.detail ?? '';
    });
    const r = await trainer.run();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const loss = r.history.loss;
    console.log(`distill golden: loss first 10 ${mean(loss.slice(0, 10)).toFixed(4)}, last 10 ${mean(loss.slice(-10)).toFixed(4)}`);
    expect(loss).toHaveLength(80);
    expect(mean(loss.slice(-10))).toBeLessThan(0.8 * mean(loss.slice(0, 10)));
    expect(lastCacheStatus).toBe(`${LIMIT}/${LIMIT} images, 0 computed`); // all from the cache
  }, 300_000);
});
