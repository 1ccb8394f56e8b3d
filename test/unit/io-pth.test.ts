import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { detectFormat, loadStateDict, matchStateDict } from '../../engine/io/checkpoint';
import { CheckpointError, readPthLegacy, readPthZip } from '../../engine/io/pth';
import { UnpicklingError } from '../../engine/io/pickle';
import { SafetensorsError, serializeSafetensors } from '../../engine/io/safetensors';
import type { HostTensor, StateDict } from '../../engine/io/tensor';

// Made by test/fixtures/io/make_fixtures.py (a stand-in torch module drives CPython's pickle).
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/io');
const tinyZip = readFileSync(path.join(FIXTURES, 'tiny_zip.pth'));
const tinyLegacy = readFileSync(path.join(FIXTURES, 'tiny_legacy.pth'));

const plain = (t: HostTensor | undefined) => t && { ...t, data: Array.from(t.data as ArrayLike<number | bigint>) };

const OUR_ERRORS = ['CheckpointError', 'UnpicklingError', 'SafetensorsError'];
/** Loads bytes and expects success or one of our clear error classes, never anything else. */
async function loadOrCleanError(bytes: Uint8Array): Promise<StateDict | Error> {
  try {
    return await loadStateDict(bytes);
  } catch (e) {
    expect(OUR_ERRORS, String(e)).toContain((e as Error).name);
    expect((e as Error).message.length).toBeGreaterThan(10);
    return e as Error;
  }
}

/** Deterministic bytes (mulberry32) so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each([
  ['zip', tinyZip, readPthZip],
  ['legacy', tinyLegacy, readPthLegacy],
] as const)('%s-format .pth', (format, bytes, read) => {
  it('is recognised by its magic bytes', () => {
    expect(detectFormat(bytes)).toBe(format === 'zip' ? 'pth-zip' : 'pth-legacy');
  });

  it('reads every dtype, views, offsets and parameters into host tensors', () => {
    const sd = read(bytes);
    expect([...sd.keys()]).toEqual(['conv.weight', 'conv.bias', 'proj.weight', 'half', 'bf16', 'index', 'count', 'mask', 'bytes', 'param']);
    expect(plain(sd.get('conv.weight'))).toEqual({ dtype: 'float32', shape: [2, 3], data: [0, 0.5, 1, 1.5, 2, 2.5] });
    // storage offset 3 into [10..14]
    expect(plain(sd.get('conv.bias'))).toEqual({ dtype: 'float32', shape: [2], data: [13, 14] });
    // transposed view (stride [1, 3]) of a 2x3 storage, made contiguous
    expect(plain(sd.get('proj.weight'))).toEqual({ dtype: 'float32', shape: [3, 2], data: [0, 3, 1, 4, 2, 5] });
    expect(plain(sd.get('half'))).toEqual({ dtype: 'float32', sourceDType: 'float16', shape: [5], data: [1, -2, 0.5, 65504, 2 ** -24] });
    expect(plain(sd.get('bf16'))).toEqual({ dtype: 'float32', sourceDType: 'bfloat16', shape: [3], data: [1.5, -2, 0.15625] });
    expect(sd.get('index')!.data).toBeInstanceOf(BigInt64Array);
    expect(plain(sd.get('index'))).toEqual({ dtype: 'int64', shape: [2, 2], data: [0n, -1n, 1n << 40n, 7n] });
    expect(plain(sd.get('count'))).toEqual({ dtype: 'int32', shape: [], data: [42] });
    expect(plain(sd.get('mask'))).toEqual({ dtype: 'bool', shape: [3], data: [1, 0, 1] });
    expect(plain(sd.get('bytes'))).toEqual({ dtype: 'uint8', shape: [2], data: [0, 255] });
    expect(plain(sd.get('param'))).toEqual({ dtype: 'float32', shape: [1], data: [3.25] });
  });

  it('prefers params, and reads params_ema or reports a missing key on request', async () => {
    expect((await loadStateDict(bytes)).size).toBe(10);
    const ema = await loadStateDict(bytes, { key: 'params_ema' });
    expect(plain(ema.get('conv.weight'))!.data).toEqual([1, 1, 1, 1, 1, 1]);
    await expect(loadStateDict(bytes, { key: 'state_dict' })).rejects.toThrow(
      "no state dict under 'state_dict' (keys: params, params_ema, double, optimizer, iter)",
    );
  });

  it('parses float64 storages but refuses to materialise them', async () => {
    await expect(loadStateDict(bytes, { key: 'double' })).rejects.toThrow(
      "tensor 'w': storage type 'torch.DoubleStorage' is not supported",
    );
    await expect(loadStateDict(bytes, { key: 'optimizer' })).rejects.toThrow("state dict entry 'state' is not a tensor");
  });

  it('gives a clear error for every truncation point (sampled)', async () => {
    for (let n = 0; n < bytes.length; n += 7) {
      const result = await loadOrCleanError(bytes.subarray(0, n));
      expect(result, `cut at ${n}`).toBeInstanceOf(Error);
    }
  });

  it('survives 300 random byte corruptions with a result or a clear error', async () => {
    const rand = rng(format === 'zip' ? 1 : 2);
    for (let i = 0; i < 300; i++) {
      const copy = Uint8Array.from(bytes);
      for (let k = 0; k < 3; k++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
      await loadOrCleanError(copy);
    }
  });
});

describe('strided views', () => {
  it('gathers a large transposed view (1024x1024, stride [1, 1024]) quickly and correctly', () => {
    const L = (x: string) => Buffer.from(x, 'latin1');
    const int = (n: number) => Buffer.concat([L('J'), Buffer.from(Int32Array.from([n]).buffer)]);
    const str = (x: string) => Buffer.concat([L('X'), Buffer.from(Uint32Array.from([x.length]).buffer), L(x)]);
    // {'w': _rebuild_tensor_v2(<storage 0>, 0, (1024, 1024), (1, 1024))}, protocol 2 by hand
    const pkl = Buffer.concat([
      L('\x80\x02}'),
      str('w'),
      L('ctorch._utils\n_rebuild_tensor_v2\n('),
      L('('),
      str('storage'),
      L('ctorch\nFloatStorage\n'),
      str('0'),
      str('cpu'),
      int(1 << 20),
      L('tQ'),
      int(0),
      int(1024),
      int(1024),
      L('\x86'),
      int(1),
      int(1024),
      L('\x86'),
      L('\x89tRs.'),
    ]);
    const storage = Float32Array.from({ length: 1 << 20 }, (_, i) => i);
    const zip = zipSync({ 'a/data.pkl': pkl, 'a/data/0': new Uint8Array(storage.buffer) }, { level: 0 });
    const t0 = performance.now();
    const w = readPthZip(zip).get('w')!;
    const ms = performance.now() - t0;
    expect(w.shape).toEqual([1024, 1024]);
    const data = w.data as Float32Array;
    for (const [r, c] of [
      [0, 1],
      [1, 0],
      [5, 7],
      [1023, 1022],
    ] as const)
      expect(data[r * 1024 + c]).toBe(c * 1024 + r);
    expect(ms).toBeLessThan(2000);
  });
});

describe('.pth security', () => {
  // (builtins.eval, ('1+1',)) pickled by CPython at protocol 4, stored as archive/data.pkl
  const evalPickle = Uint8Array.from(
    Buffer.from('8004951f000000000000008c086275696c74696e73948c046576616c9493948c03312b3194859452942e', 'hex'),
  );

  it('refuses a zip checkpoint whose data.pkl calls builtins.eval', async () => {
    const zip = zipSync({ 'archive/data.pkl': evalPickle, 'archive/version': strToU8('3\n') }, { level: 0 });
    await expect(loadStateDict(zip)).rejects.toThrow(UnpicklingError);
    await expect(loadStateDict(zip)).rejects.toThrow("global 'builtins.eval' is not on the allow-list");
  });

  it('refuses os.system hidden inside a state dict entry', async () => {
    // {'params': {'w': os.system('id')}} spelled by hand at protocol 2
    const pkl = Buffer.concat([
      Buffer.from([0x80, 2, 0x7d]),
      Buffer.from('X\x06\x00\x00\x00params}X\x01\x00\x00\x00w', 'latin1'),
      Buffer.from('cos\nsystem\nX\x02\x00\x00\x00id\x85Rss.', 'latin1'),
    ]);
    const zip = zipSync({ 'ckpt/data.pkl': pkl }, { level: 0 });
    await expect(loadStateDict(zip)).rejects.toThrow("global 'os.system' is not on the allow-list");
  });

  it('refuses a deflate entry that claims an absurd expansion (zip bomb guard)', () => {
    const zip = zipSync({ 'a/data.pkl': evalPickle }, { level: 9 });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const cd = zip.findIndex((_, i) => view.getUint32(i, true) === 0x02014b50);
    view.setUint32(cd + 24, 0x7fffffff, true); // central directory: uncompressed size
    expect(() => readPthZip(zip)).toThrow(/claims 2147483647 bytes/);
  });

  it('reports a storage missing from the archive', () => {
    const files = unzipTiny();
    delete files['tiny/data/2'];
    expect(() => readPthZip(zipSync(files, { level: 0 }))).toThrow("tensor 'proj.weight': storage '2' is missing from the archive");
  });

  it('reports a storage shorter than its tensor view', () => {
    const files = unzipTiny();
    files['tiny/data/1'] = files['tiny/data/1']!.subarray(0, 8);
    expect(() => readPthZip(zipSync(files, { level: 0 }))).toThrow("tensor 'conv.bias': storage '1' has 8 bytes, needs 20");
  });

  it('rejects a zip without data.pkl', () => {
    expect(() => readPthZip(zipSync({ 'x/readme.txt': strToU8('hi') }))).toThrow('no data.pkl');
  });
});

function unzipTiny(): Record<string, Uint8Array> {
  return unzipSync(tinyZip);
}

describe('format detection and garbage input', () => {
  it('rejects an empty file', async () => {
    await expect(loadStateDict(new Uint8Array(0))).rejects.toThrow('file is empty');
  });

  it('rejects random bytes with a clear error (50 seeded buffers)', async () => {
    const rand = rng(42);
    for (let i = 0; i < 50; i++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(rand() * 4096) }, () => Math.floor(rand() * 256));
      expect(await loadOrCleanError(junk)).toBeInstanceOf(Error);
    }
  });

  it('names the first bytes of an unrecognised file', () => {
    expect(() => detectFormat(Buffer.from('GIF89a..........'))).toThrow('unrecognised checkpoint format (first bytes 474946383961');
  });

  it('dispatches safetensors by content', async () => {
    const st = serializeSafetensors(new Map([['a', { dtype: 'float32', shape: [1], data: Float32Array.from([2]) }]]));
    expect(detectFormat(st)).toBe('safetensors');
    expect(plain((await loadStateDict(st)).get('a'))).toEqual({ dtype: 'float32', shape: [1], data: [2] });
    const lying = Buffer.from(st);
    lying.writeBigUInt64LE(BigInt(st.length));
    await expect(loadStateDict(lying)).rejects.toThrow(SafetensorsError);
  });

  it('prefixes errors with the file path', async () => {
    await expect(loadStateDict(path.join(FIXTURES, 'make_fixtures.py'))).rejects.toThrow(
      /make_fixtures\.py: unrecognised checkpoint format/,
    );
    await expect(loadStateDict(path.join(FIXTURES, 'make_fixtures.py'))).rejects.toBeInstanceOf(CheckpointError);
  });
});

describe('matchStateDict', () => {
  const t = (shape: number[]): HostTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  const sd: StateDict = new Map([
    ['b', t([2])],
    ['a', t([2, 3])],
    ['attn_mask', t([4])],
  ]);

  it('returns tensors in the expected order, ignoring the keys it is told to', () => {
    const expected = new Map([
      ['a', [2, 3]],
      ['b', [2]],
    ]);
    expect(matchStateDict(expected, sd, { ignore: (k) => k.endsWith('attn_mask') })).toEqual([sd.get('a'), sd.get('b')]);
  });

  it('names every missing key, unexpected key and shape mismatch in one error', () => {
    const expected = new Map([
      ['a', [3, 2]],
      ['c', [1]],
      ['d', [1]],
    ]);
    let message = '';
    try {
      matchStateDict(expected, sd);
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      message = (e as Error).message;
    }
    expect(message).toContain('missing keys (2): c, d');
    expect(message).toContain('unexpected keys (2): b, attn_mask');
    expect(message).toContain('shape mismatches (1): a: checkpoint [2, 3], model [3, 2]');
  });
});
