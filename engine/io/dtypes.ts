import type { DType, HostTensor } from './tensor';
import { numel } from './tensor';

/** Bytes per element of each dtype as stored in a checkpoint file. */
export const ITEM_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

/** Binary16 → float32 via a 64K-entry table: simple, exact and fast for multi-MB tensors. */
let halfTable: Float32Array | undefined;
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac ? NaN : sign * Infinity;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = table;
  return table;
}

/**
 * Decodes `count` little-endian elements of `dtype` from `bytes` (any byte offset) into a new
 * host array. float16/bfloat16 are widened to float32; the caller keeps `sourceDType`.
 */
export function decodeElements(bytes: Uint8Array, dtype: DType, count: number): Float32Array | BigInt64Array | Int32Array | Uint8Array {
  const need = count * ITEM_SIZE[dtype];
  if (bytes.length < need) {
    throw new RangeError(`decodeElements: ${dtype} x ${count} needs ${need} bytes, got ${bytes.length}`);
  }
  // Copy first so typed-array views are aligned whatever the source offset was. (Not
  // `bytes.slice`: on a Node Buffer that is a view sharing the whole pooled ArrayBuffer.)
  const copy = new Uint8Array(need);
  copy.set(bytes.subarray(0, need));
  const buf = copy.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'uint8':
      return new Uint8Array(buf);
    case 'bool': {
      const out = new Uint8Array(buf);
      for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0;
      return out;
    }
    case 'float16': {
      const table = halfToFloatTable();
      const src = new Uint16Array(buf);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'bfloat16': {
      const src = new Uint16Array(buf);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
  }
}

/** The host dtype a stored dtype becomes after widening. */
export function hostDType(dtype: DType): HostTensor['dtype'] {
  return dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
}

/** Builds a HostTensor from raw little-endian bytes of a contiguous tensor. */
export function tensorFromBytes(bytes: Uint8Array, dtype: DType, shape: readonly number[]): HostTensor {
  const data = decodeElements(bytes, dtype, numel(shape));
  const tensor: HostTensor = { dtype: hostDType(dtype), shape: [...shape], data };
  return dtype === hostDType(dtype) ? tensor : { ...tensor, sourceDType: dtype };
}

/** Raw little-endian bytes of a host tensor's data (a view, no copy). */
export function tensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
