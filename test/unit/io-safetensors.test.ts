import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from '../../engine/io/safetensors';
import type { StateDict } from '../../engine/io/tensor';

/** A safetensors file assembled by hand, so the reader is not only tested against our writer. */
function handMade(header: unknown, data: Uint8Array, headerLenOverride?: bigint): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLenOverride ?? BigInt(json.length));
  return Uint8Array.from(Buffer.concat([len, json, data]));
}

function sample(): StateDict {
  return new Map([
    ['w', { dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, -2.5, 3e-8, 4]) }],
    ['idx', { dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, -1n, 1n << 40n]) }],
    ['i32', { dtype: 'int32', shape: [1], data: Int32Array.from([-7]) }],
    ['u8', { dtype: 'uint8', shape: [2], data: Uint8Array.from([0, 255]) }],
    ['flag', { dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) }],
    ['scalar', { dtype: 'float32', shape: [], data: Float32Array.from([0.5]) }],
    ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('safetensors round trip', () => {
  it('writes and reads back every host dtype, shapes, order and metadata', async () => {
    const file = path.join(dir, 'rt.safetensors');
    await writeSafetensors(file, sample(), { weights: 'edsr.pth', note: 'é' });
    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({ weights: 'edsr.pth', note: 'é' });
    expect([...tensors.keys()]).toEqual([...sample().keys()]);
    for (const [name, t] of sample()) {
      const back = tensors.get(name)!;
      expect(back.dtype, name).toBe(t.dtype);
      expect(back.shape, name).toEqual(t.shape);
      expect(back.data, name).toEqual(t.data);
    }
  });

  it('aligns tensor data to 8 bytes and uses the reference dtype names', () => {
    const bytes = serializeSafetensors(sample());
    const headerLen = Number(bytes.readBigUInt64LE(0));
    expect(headerLen % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString());
    expect(header.__metadata__).toBeUndefined();
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(header.idx.dtype).toBe('I64');
    expect(header.flag.dtype).toBe('BOOL');
  });

  it('reads from a Buffer sliced out of a larger pooled allocation', () => {
    const bytes = serializeSafetensors(sample());
    const pooled = Buffer.concat([Buffer.from('junk!'), bytes]).subarray(5);
    expect(parseSafetensors(pooled).tensors.get('w')!.data).toEqual(Float32Array.from([1, -2.5, 3e-8, 4]));
  });

  it('replaces an existing file atomically and leaves no temp file behind', async () => {
    const file = path.join(dir, 'atomic.safetensors');
    await writeFile(file, 'old contents');
    await writeSafetensors(file, sample(), { v: '2' });
    expect((await readSafetensors(file)).metadata).toEqual({ v: '2' });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves the old file and no temp file when the write fails', async () => {
    const file = path.join(dir, 'no-such-dir', 'x.safetensors');
    await expect(writeSafetensors(file, sample())).rejects.toThrow(/ENOENT/);
    const bad: StateDict = new Map([['w', { dtype: 'float32', shape: [3], data: new Float32Array(2) }]]);
    await expect(writeSafetensors(path.join(dir, 'bad.safetensors'), bad)).rejects.toThrow(/'w' has 2 elements/);
    expect(await readdir(dir)).not.toContain('bad.safetensors');
  });
});

describe('safetensors half precision', () => {
  it('widens F16 and BF16 to float32 and remembers the source dtype', () => {
    const f16 = Uint8Array.from(Buffer.from('003c00c000380000ff7b0100', 'hex')); // 1, -2, 0.5, 0, 65504, 2^-24
    const bf16 = Uint8Array.from(Buffer.from('c03f00c0203e', 'hex')); // 1.5, -2, 0.15625
    const file = handMade(
      {
        h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] },
        b: { dtype: 'BF16', shape: [3], data_offsets: [12, 18] },
      },
      Uint8Array.from([...f16, ...bf16]),
    );
    const { tensors } = parseSafetensors(file);
    expect(tensors.get('h')).toEqual({
      dtype: 'float32',
      shape: [6],
      data: Float32Array.from([1, -2, 0.5, 0, 65504, 2 ** -24]),
      sourceDType: 'float16',
    });
    expect(tensors.get('b')).toEqual({
      dtype: 'float32',
      shape: [3],
      data: Float32Array.from([1.5, -2, 0.15625]),
      sourceDType: 'bfloat16',
    });
  });
});

describe('safetensors validation', () => {
  const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data8 = new Uint8Array(8);
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty file', new Uint8Array(0), /0 bytes, too short/],
    ['a header length beyond the file', handMade(ok, data8, 1n << 40n), /header length 1099511627776 exceeds the \d+ bytes after it/],
    ['a header that is not JSON', handMade(ok, data8).map((b, i) => (i === 8 ? 0x78 : b)), /not valid UTF-8 JSON/],
    ['a header that is a list', handMade([1], data8), /not an object/],
    ['an unsupported dtype', handMade({ t: { ...ok.t, dtype: 'F64' } }, data8), /tensor 't': unsupported dtype "F64"/],
    [
      'a dtype named like an Object property',
      handMade({ t: { ...ok.t, dtype: 'constructor' } }, data8),
      /tensor 't': unsupported dtype "constructor"/,
    ],
    [
      'offsets past the data',
      handMade({ t: { ...ok.t, data_offsets: [0, 16] } }, data8),
      /\[0, 16\] out of bounds \(data section is 8 bytes\)/,
    ],
    ['reversed offsets', handMade({ t: { ...ok.t, data_offsets: [8, 0] } }, data8), /out of bounds/],
    [
      'a size that disagrees with the shape',
      handMade({ t: { ...ok.t, shape: [3] } }, data8),
      /F32 \[3\] needs 12 bytes, data_offsets give 8/,
    ],
    ['a negative dimension', handMade({ t: { ...ok.t, shape: [-2] } }, data8), /not a list of non-negative integers/],
    ['overlapping tensors', handMade({ a: ok.t, b: ok.t }, data8), /'a' and 'b' overlap/],
    ['non-string metadata', handMade({ ...ok, __metadata__: { n: 1 } }, data8), /__metadata__ value for 'n' is not a string/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes)).toThrow(message);
    });
  }

  it('names the file in errors read from disk', async () => {
    const file = path.join(dir, 'short.safetensors');
    await writeFile(file, Buffer.from([1, 2, 3]));
    await expect(readSafetensors(file)).rejects.toThrow(`${file}: file is 3 bytes`);
  });

  it('throws only SafetensorsError for every truncation of a valid file', () => {
    const full = serializeSafetensors(sample(), { a: 'b' });
    for (let n = 0; n < full.length; n++) {
      expect(() => parseSafetensors(full.subarray(0, n)), `cut at ${n}`).toThrow(SafetensorsError);
    }
  });

  it('accepts a header that ends exactly at the end of the file', () => {
    const bytes = handMade({ __metadata__: { k: 'v' } }, new Uint8Array(0));
    expect(parseSafetensors(bytes)).toEqual({ tensors: new Map(), metadata: { k: 'v' } });
  });
});
