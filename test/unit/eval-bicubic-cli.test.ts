import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planarFromInterleaved, planarToUint8, type PlanarImage } from '../../engine/image/planar';
import { imresizeBicubic, SR_BENCHMARK_LR } from '../../engine/image/resize';
import { evaluatePair, meanScore } from '../../engine/metrics/evaluate';
import { evalCommand } from '../../scripts/cli/commands/eval';

/**
 * `minisr eval --bicubic`: each set's LR upscaled by the MATLAB bicubic at the set's own scale and
 * scored as model rows are (Y PSNR/SSIM, crop = scale), in the table `minisr eval` prints.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-eval-bicubic-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A 24x24 HR pattern per image, its LR made as the benchmarks' are (MATLAB bicubic down, uint8). */
function hrImage(seed: number): PlanarImage {
  const data = Uint8Array.from({ length: 24 * 24 * 3 }, (_, i) => {
    const [p, c] = [Math.floor(i / 3), i % 3];
    return Math.round(127 + 100 * Math.sin((p % 24) / (2 + seed) + Math.floor(p / 24) / (3 + c)));
  });
  return planarFromInterleaved({ width: 24, height: 24, channels: 3, data });
}

async function writePng(img: PlanarImage, file: string): Promise<void> {
  const px = planarToUint8(img);
  await sharp(Buffer.from(px.data), { raw: { width: px.width, height: px.height, channels: 3 } })
    .png()
    .toFile(file);
}

/** A benchmark folder `sets/x<scale>` of two pairs, and the mean score the bicubic baseline must get on it. */
async function benchmark(scale: number): Promise<{ dir: string; psnr: number; ssim: number }> {
  const d = path.join(dir, 'sets', `x${scale}`);
  await mkdir(d, { recursive: true });
  const scores = [];
  for (const id of [1, 2]) {
    const hr = hrImage(id);
    const lr = imresizeBicubic(hr, 1 / scale, SR_BENCHMARK_LR);
    await writePng(hr, path.join(d, `00${id}_HR.png`));
    await writePng(lr, path.join(d, `00${id}_LR.png`));
    scores.push(evaluatePair(imresizeBicubic(lr, scale), hr, scale));
  }
  return { dir: d, ...meanScore(scores) };
}

async function runEval(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await evalCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}

describe('minisr eval --bicubic', () => {
  it("scores each set at its own scale in eval's table, and as JSON", async () => {
    const [x2, x3] = [await benchmark(2), await benchmark(3)];
    const out = await runEval('--bicubic', '--set', x2.dir, x3.dir);
    for (const [set, scale] of [
      [x2, 2],
      [x3, 3],
    ] as const) {
      expect(out).toContain(`sets/x${scale} (x${scale})`);
      expect(out).toMatch(new RegExp(`mean +${set.psnr.toFixed(3)} +${set.ssim.toFixed(4)}`));
    }
    expect(out.match(/^00[12] +\d+\.\d{3} +\d\.\d{4} +\d+$/gm)).toHaveLength(4);
    const json = JSON.parse(await runEval('--bicubic', '--json', '--set', x3.dir)) as { set: string; scale: number; mean: object }[];
    expect(json).toMatchObject([{ set: 'sets/x3', scale: 3, mean: { psnr: x3.psnr, ssim: x3.ssim } }]);
  });

  it('refuses a model with it, --passes, and a set whose HR is no whole multiple of its LR', async () => {
    const { dir: x2 } = await benchmark(2);
    await expect(runEval('--bicubic', '--model', 'm.onnx', '--set', x2)).rejects.toThrow(/either --bicubic or a model/);
    await expect(runEval('--bicubic', '--passes', '2', '--set', x2)).rejects.toThrow(/--passes applies to a model/);
    const odd = path.join(dir, 'odd');
    await mkdir(odd, { recursive: true });
    await writePng(hrImage(1), path.join(odd, '001_HR.png'));
    await writePng(imresizeBicubic(hrImage(1), 10 / 24), path.join(odd, '001_LR.png'));
    await expect(runEval('--bicubic', '--set', odd)).rejects.toThrow(/no whole multiple/);
  });
});
