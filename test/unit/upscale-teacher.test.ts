import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../engine/image/decode';
import { readFile } from 'node:fs/promises';
import { resolveModel } from '../../engine/upscale/model';
import { upscaleFile } from '../../engine/upscale/pipeline';
import { ImageModel } from '../../engine/zoo/infer';
import { sharedAvailable, sharedPath } from '../helpers/shared';

/**
 * The shipped teacher on a real photo, tiled, against the zoo's whole-image inference of the same
 * ONNX file (which the zoo checks against PyTorch): equal after quantisation.
 */
const TEACHER = resolve(import.meta.dirname, '../../models/edsr-baseline-x2.onnx');
let dir: string | undefined;
afterAll(() => dir && rm(dir, { recursive: true, force: true }));

describe.runIf(existsSync(TEACHER))('shipped teacher through the tiler', () => {
  it('Set5 crop: tiled file output equals the whole-image pass', async (ctx) => {
    if (!sharedAvailable('tiled teacher vs whole-image pass on Set5')) return ctx.skip();
    dir = await mkdtemp(join(tmpdir(), 'minisr-teacher-'));
    const input = join(dir, 'crop.png');
    await sharp(sharedPath('datasets/Set5/x2/001_LR.png')).extract({ left: 20, top: 30, width: 120, height: 100 }).png().toFile(input);
    const model = await resolveModel({ model: TEACHER });
    expect(model.config?.family).toBe('edsr');
    const res = await upscaleFile(input, join(dir, 'crop_x2.png'), { model, ep: 'cpu', tile: 96, overlap: model.receptiveRadius! });
    expect(res.ep.used).toBe('cpu');
    const whole = await ImageModel.fromOnnx(await readFile(TEACHER), undefined, { ep: 'cpu' });
    const src = await decodeImage(input);
    const ref = await whole.upscale(src.rgb);
    await whole.release();
    const got = await decodeImage(res.output);
    let max = 0;
    for (let i = 0; i < ref.data.length; i++) max = Math.max(max, Math.abs(Math.min(1, Math.max(0, ref.data[i]!)) - got.rgb.data[i]!));
    expect(max).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
  }, 60_000);
});
