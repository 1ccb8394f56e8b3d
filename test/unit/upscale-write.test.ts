import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../engine/image/encode';
import type { OutputFormat } from '../../engine/image/formats';
import { writeVipsFile } from '../../engine/image/vips-file';
import { VipsFileSink } from '../../engine/upscale/bands';
import { encodeVipsFile } from '../../engine/upscale/write';

// The streaming path (VipsFileSink -> .v -> encodeVipsFile) must give the files the in-memory path (encodeImage) gives.
const W = 7;
const H = 5;
const rows = Float32Array.from({ length: W * H * 4 }, (_, i) => ((i * 37) % 256) / 255);
const bytes = Uint8Array.from(rows, (v) => Math.round(v * 255));
const icc = Buffer.from('not a real profile, carried byte for byte');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-write-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('upscale file encoding', () => {
  it('VipsFileSink writes the same .v file as writeVipsFile (shared header and metadata block)', async () => {
    const sinkPath = join(dir, 'sink.v');
    const sink = await VipsFileSink.create(sinkPath, W, H, 4, 8);
    await sink.write(rows.subarray(0, W * 2 * 4), 2);
    await sink.write(rows.subarray(W * 2 * 4), H - 2);
    await sink.finish({ icc });
    const refPath = join(dir, 'ref.v');
    await writeVipsFile(refPath, bytes, W, H, 4, { icc });
    expect(await readFile(sinkPath)).toEqual(await readFile(refPath));
  });

  it.each<[OutputFormat, number | undefined]>([
    ['png', undefined],
    ['jpeg', 85],
    ['webp', 90],
    ['tiff', undefined],
  ])('encodeVipsFile and encodeImage give identical %s files', async (format, quality) => {
    const vPath = join(dir, `${format}.v`);
    await writeVipsFile(vPath, bytes, W, H, 4, {});
    const streamed = join(dir, `streamed.${format}`);
    const inMemory = join(dir, `memory.${format}`);
    const q = quality !== undefined ? { quality } : {};
    await encodeVipsFile(vPath, streamed, 4, { format, ...q, bitDepth: 8, keepIcc: false, keepExif: false, keepXmp: false });
    await encodeImage({ raw: bytes, width: W, height: H, channels: 4, bitDepth: 8 }, { format, ...q }, inMemory);
    expect(await readFile(streamed)).toEqual(await readFile(inMemory));
  });

  it('refuses 16-bit output in a format that cannot hold it, and a bad quality', async () => {
    const vPath = join(dir, 'refuse.v');
    await writeVipsFile(vPath, bytes, W, H, 4, {});
    const base = { bitDepth: 8 as const, keepIcc: false, keepExif: false, keepXmp: false };
    await expect(encodeVipsFile(vPath, join(dir, 'x.jpg'), 4, { ...base, format: 'jpeg', bitDepth: 16 })).rejects.toThrow(
      '16-bit output needs png or tiff, not jpeg',
    );
    await expect(encodeVipsFile(vPath, join(dir, 'x.webp'), 4, { ...base, format: 'webp', quality: 0 })).rejects.toThrow(
      'quality must be an integer 1..100, got 0',
    );
  });
});
