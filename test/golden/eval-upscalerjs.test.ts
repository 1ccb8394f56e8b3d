import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importKeras } from '../../engine/importers/keras';
import type { PlanarImage } from '../../engine/image/planar';
import { evaluateSet } from '../../engine/zoo/evaluate';
import { initTfjsWasm, loadTfjsUpscaler, upscalerjsModelJson } from '../../scripts/bench/tfjs-upscalerjs';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const CLI = path.resolve(import.meta.dirname, '../../scripts/minisr.mjs');

/**
 * `minisr eval --model <imported esrgan-slim x2>.onnx` (an ONNX file without a minisr card: the
 * upscaler runs it on whole images) scores Set5 x2 as TensorFlow.js running the same model.json does.
 */
describe.runIf(sharedAvailable('UpscalerJS import vs tfjs on Set5'))('imported esrgan-slim x2 on Set5 x2', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-upscalerjs-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('minisr eval equals tfjs within 0.01 dB', async () => {
    const file = path.join(dir, 'esrgan-slim-x2.onnx');
    await writeFile(file, (await importKeras(upscalerjsModelJson('esrgan-slim', 2))).onnx);
    const set = sharedPath('datasets', 'Set5', 'x2');
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'eval', '--model', file, '--set', set, '--json']);
    const ours = (JSON.parse(stdout) as { mean: { psnr: number } }[])[0]!.mean.psnr;

    await initTfjsWasm(1);
    const tfjs = await loadTfjsUpscaler('esrgan-slim', 2);
    const theirs = await evaluateSet(
      {
        scale: 2,
        upscale: async (img: PlanarImage) => ({
          width: img.width * 2,
          height: img.height * 2,
          channels: 3,
          data: await tfjs.run(img.data, img.height, img.width),
        }),
      },
      set,
    );
    tfjs.dispose();
    expect(ours).toBeGreaterThan(30);
    expect(Math.abs(ours - theirs.mean.psnr)).toBeLessThanOrEqual(0.01);
  }, 300_000);
});
