import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';
import type { DType, HostTensor, StateDict } from './tensor';
import { numel } from './tensor';
import { ITEM_SIZE, tensorBytes, tensorFromBytes } from './dtypes';

/** safetensors dtype names we read, and what they hold on the host. */
const FILE_DTYPES: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
};
const HOST_TO_FILE: Readonly<Record<HostTensor['dtype'], string>> = {
  float32: 'F32',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

/** Same cap as the reference Rust implementation: headers are small, a huge one is corrupt. */
const MAX_HEADER_BYTES = 100_000_000;

export interface Safetensors {
  tensors: StateDict;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Reads a safetensors file (path) or buffer. Tensors come back in data-offset order. */
export async function readSafetensors(source: string | Uint8Array): Promise<Safetensors> {
  if (typeof source !== 'string') return parseSafetensors(source);
  const bytes = await readFile(source);
  try {
    return parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${source}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function parseSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(`header length ${headerLen} exceeds the ${bytes.length - 8} bytes after it`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${headerLen} exceeds ${MAX_HEADER_BYTES}`);
  const headerEnd = 8 + Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) throw new SafetensorsError('header JSON is not an object');

  const data = bytes.subarray(headerEnd);
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(info);
      continue;
    }
    entries.push({ name, ...parseEntry(name, info, data.length) });
  }
  entries.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    const cur = entries[i]!;
    if (cur.begin < prev.end) throw new SafetensorsError(`tensors '${prev.name}' and '${cur.name}' overlap`);
  }
  const tensors: StateDict = new Map();
  for (const e of entries) tensors.set(e.name, tensorFromBytes(data.subarray(e.begin, e.end), e.dtype, e.shape));
  return { tensors, metadata };
}

function parseEntry(name: string, info: unknown, dataLen: number) {
  const where = `tensor '${name}'`;
  if (!isPlainObject(info)) throw new SafetensorsError(`${where}: entry is not an object`);
  const { dtype: fileDType, shape, data_offsets: offsets } = info;
  const dtype = typeof fileDType === 'string' && Object.hasOwn(FILE_DTYPES, fileDType) ? FILE_DTYPES[fileDType] : undefined;
  if (!dtype) throw new SafetensorsError(`${where}: unsupported dtype ${JSON.stringify(fileDType)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new SafetensorsError(`${where}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLen) {
    throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] out of bounds (data section is ${dataLen} bytes)`);
  }
  const need = numel(shape) * ITEM_SIZE[dtype];
  if (end - begin !== need) {
    throw new SafetensorsError(`${where}: ${fileDType} [${shape.join(', ')}] needs ${need} bytes, data_offsets give ${end - begin}`);
  }
  return { dtype, shape: shape as number[], begin, end };
}

function parseMetadata(info: unknown): Record<string, string> {
  if (!isPlainObject(info)) throw new SafetensorsError('__metadata__ is not an object');
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') throw new SafetensorsError(`__metadata__ value for '${k}' is not a string`);
  }
  return { ...(info as Record<string, string>) };
}

/** Serialises tensors (in map order) and string metadata to safetensors bytes. */
export function serializeSafetensors(tensors: StateDict, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`serializeSafetensors: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new RangeError("serializeSafetensors: '__metadata__' is reserved");
    const dtype = HOST_TO_FILE[t.dtype];
    const bytes = tensorBytes(t);
    if (t.data.length !== numel(t.shape)) {
      throw new RangeError(
        `serializeSafetensors: '${name}' has ${t.data.length} elements, shape [${t.shape.join(', ')}] needs ${numel(t.shape)}`,
      );
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  // Pad the header with spaces to 8 bytes so tensor data stays aligned (as the Rust writer does).
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, ...chunks]);
}

/** Writes a safetensors file atomically: a temp file beside the target, then rename. */
export async function writeSafetensors(filePath: string, tensors: StateDict, metadata: Record<string, string> = {}): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  await writeFileAtomic(filePath, bytes);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
