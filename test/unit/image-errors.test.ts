import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, probeImage } from '../../engine/image/decode';
import { ImageDecodeError } from '../../engine/image/errors';
import { makeTmpDir, rawSharp } from './image-fixtures';

const tmp = makeTmpDir();
afterAll(tmp.cleanup);

/** Pseudo-random pixels: they compress badly, so truncating the file cuts into pixel data. */
function noise(width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  let s = 12345;
  for (let i = 0; i < buf.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    buf[i] = s >>> 24;
  }
  return buf;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG whose IHDR claims width x height, with an empty IDAT: a header without pixel data. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.alloc(0)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 2x2 24-bit BMP (a format the prebuilt libvips cannot read). */
function bmp(): Buffer {
  const rowBytes = 8; // 2 px * 3 bytes, padded to 4
  const pixels = Buffer.alloc(rowBytes * 2, 0x7f);
  const h = Buffer.alloc(54);
  h.write('BM', 0, 'latin1');
  h.writeUInt32LE(54 + pixels.length, 2);
  h.writeUInt32LE(54, 10);
  h.writeUInt32LE(40, 14);
  h.writeInt32LE(2, 18);
  h.writeInt32LE(2, 22);
  h.writeUInt16LE(1, 26);
  h.writeUInt16LE(24, 28);
  h.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([h, pixels]);
}

async function expectDecodeError(file: string, code: string, detail: RegExp): Promise<ImageDecodeError> {
  const err = await decodeImage(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageDecodeError);
  const e = err as ImageDecodeError;
  expect(e.code).toBe(code);
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.message).toMatch(detail);
  return e;
}

describe('ImageDecodeError', () => {
  it('missing file', async () => {
    await expectDecodeError(join(tmp.dir, 'nope.png'), 'not-found', /file not found/);
  });

  it('zero-byte file', async () => {
    const file = join(tmp.dir, 'empty.png');
    writeFileSync(file, '');
    await expectDecodeError(file, 'empty', /file is empty \(0 bytes\)/);
  });

  it('directory named .jpg', async () => {
    const dir = join(tmp.dir, 'photos.jpg');
    mkdirSync(dir);
    await expectDecodeError(dir, 'is-directory', /is a directory/);
  });

  it('text file named .png', async () => {
    const file = join(tmp.dir, 'notes.png');
    writeFileSync(file, 'These are my notes, not a picture.\n');
    await expectDecodeError(file, 'not-an-image', /not an image file/);
  });

  it('unsupported format (BMP)', async () => {
    const file = join(tmp.dir, 'old.bmp');
    writeFileSync(file, bmp());
    await expectDecodeError(file, 'unsupported-format', /BMP images cannot be read/);
  });

  it('truncated PNG', async () => {
    const png = await rawSharp(noise(64, 64), 64, 64, 3).png().toBuffer();
    const file = join(tmp.dir, 'cut.png');
    writeFileSync(file, png.subarray(0, Math.floor(png.length / 2)));
    const e = await expectDecodeError(file, 'corrupt', /truncated or corrupt/);
    expect(e.cause).toBeInstanceOf(Error); // the libvips message is kept as the cause
  });

  it('truncated JPEG', async () => {
    const jpg = await rawSharp(noise(64, 64), 64, 64, 3).jpeg({ quality: 95 }).toBuffer();
    const file = join(tmp.dir, 'cut.jpg');
    writeFileSync(file, jpg.subarray(0, Math.floor(jpg.length / 2)));
    await expectDecodeError(file, 'corrupt', /truncated or corrupt/);
  });

  it('an image above the pixel limit is refused from its header, without decoding', async () => {
    const file = join(tmp.dir, 'huge.png');
    writeFileSync(file, pngHeaderOnly(50000, 40000));
    await expect(probeImage(file)).rejects.toMatchObject({ code: 'too-large', message: expect.stringContaining('huge.png') });
    // 40000 x 40000 is within the limit: the header is read (its pixels are never decoded here).
    const ok = join(tmp.dir, 'big-ok.png');
    writeFileSync(ok, pngHeaderOnly(40000, 40000));
    expect(await probeImage(ok)).toMatchObject({ width: 40000, height: 40000, format: 'png' });
  });

  it('names Buffer inputs by the given name', async () => {
    await expect(decodeImage(Buffer.from('hello'), { name: 'upload #3' })).rejects.toMatchObject({
      code: 'not-an-image',
      message: expect.stringMatching(/^upload #3: /),
    });
    await expect(decodeImage(Buffer.alloc(0))).rejects.toMatchObject({ code: 'empty', message: expect.stringMatching(/^<buffer>: /) });
  });
});
