/** Generated image fixtures for the image-*.test.ts files (no files from ../shared). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Sharp } from 'sharp';

export function makeTmpDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'minisr-image-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type RGB = readonly [number, number, number];
export const RED: RGB = [220, 30, 40];
export const GREEN: RGB = [30, 200, 60];
export const BLUE: RGB = [40, 50, 210];
export const WHITE: RGB = [250, 250, 250];

/** W x H RGB image whose four quadrants differ (TL red, TR green, BL blue, BR white). */
export function quadrants(width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : WHITE;
      buf.set(c, (y * width + x) * 3);
    }
  }
  return buf;
}

/** A smooth RGB gradient with a per-pixel varying pattern (good for exact round trips). */
export function gradient(width: number, height: number, channels: 3 | 4 = 3): Buffer {
  const buf = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      buf[i] = (x * 255) / Math.max(1, width - 1);
      buf[i + 1] = (y * 255) / Math.max(1, height - 1);
      buf[i + 2] = (x * 7 + y * 13) % 256;
      if (channels === 4) buf[i + 3] = (x * 31 + y * 17) % 256;
    }
  }
  return buf;
}

export function rawSharp(data: Buffer | Uint16Array, width: number, height: number, channels: 1 | 2 | 3 | 4): Sharp {
  return sharp(data, { raw: { width, height, channels } });
}

/** Value (0..255) of channel c at (x, y) of an interleaved buffer. */
export function at(buf: Uint8Array, width: number, channels: number, x: number, y: number, c: number): number {
  return buf[(y * width + x) * channels + c]!;
}

/** Planar [0, 1] value to 0..255. */
export function to255(v: number | undefined): number {
  return Math.round((v ?? NaN) * 255);
}
