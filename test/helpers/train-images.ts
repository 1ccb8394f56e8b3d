import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../engine/train/rng';

/**
 * Writes `count` smooth random PNGs (`<prefix><i>.png`): uniform noise of `noise` pixels,
 * bicubic-upsampled to `size`, so that super-resolution on them is learnable. Seeded: the same
 * arguments give the same pixels.
 */
export async function writeSmoothImages(
  dir: string,
  opts: { count: number; seed: number; noise: readonly [number, number]; size: readonly [number, number]; prefix: string },
): Promise<void> {
  const rng = Rng.seeded(opts.seed);
  const [nw, nh] = opts.noise;
  for (let i = 0; i < opts.count; i++) {
    const small = Buffer.from(Uint8Array.from({ length: nw * nh * 3 }, () => rng.int(256)));
    await sharp(small, { raw: { width: nw, height: nh, channels: 3 } })
      .resize(opts.size[0], opts.size[1], { kernel: 'cubic' })
      .png()
      .toFile(path.join(dir, `${opts.prefix}${i}.png`));
  }
}
