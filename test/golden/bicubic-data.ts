/** Loads the ../shared SR benchmark pairs (NNN_HR.png / NNN_LR.png) as RGB for the golden tests. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { planarFromInterleaved, toRgb, type InterleavedImage, type PlanarImage } from '../../engine/image/planar';
import { sharedPath } from '../helpers/shared';

/** 8-bit PNG pixels as interleaved RGB uint8 (grey images expanded, alpha refused). */
export async function loadRgb8(file: string): Promise<InterleavedImage<Uint8Array>> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  if (data.length !== info.width * info.height * info.channels) throw new Error(`${file}: expected 8-bit pixels`);
  const px = { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data) };
  if (px.channels === 3) return px;
  if (px.channels !== 1) throw new Error(`${file}: expected 1 or 3 channels, got ${px.channels}`);
  const n = px.width * px.height;
  const rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = px.data[i]!;
  return { ...px, channels: 3, data: rgb };
}

export async function loadPlanarRgb(file: string): Promise<PlanarImage> {
  return toRgb(planarFromInterleaved(await loadRgb8(file)));
}

/** Image ids ("001", ...) of a benchmark folder such as Set5/x2. */
export function pairIds(set: string, scaleDir: string): { id: string; hr: string; lr: string }[] {
  const dir = sharedPath('datasets', set, scaleDir);
  return readdirSync(dir)
    .filter((f) => f.endsWith('_HR.png'))
    .sort()
    .map((f) => {
      const id = f.slice(0, -'_HR.png'.length);
      return { id, hr: path.join(dir, f), lr: path.join(dir, `${id}_LR.png`) };
    });
}
