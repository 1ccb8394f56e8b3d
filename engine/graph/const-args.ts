import type { Value } from './value';

/** Reading constant arguments (shapes, axes, slice bounds) shared by shape and gradient rules. */

/** The int64 contents of a constant input (Reshape's shape, Slice's starts, Pad's pads...). */
export function constInts(v: Value | undefined, what: string): number[] {
  if (!v) throw new TypeError(`${what} is required`);
  if (!v.data) throw new TypeError(`${what} (${v.name}) must be a constant: shapes are static`);
  const d = v.data.data;
  if (d instanceof BigInt64Array) return Array.from(d, (x) => Number(x));
  if (d instanceof Int32Array) return Array.from(d);
  throw new TypeError(`${what} (${v.name}) must be int64`);
}

/** Slice semantics of ONNX: negative indices count from the end, results clamped. */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; count: number } {
  if (step === 0) throw new RangeError('Slice step must not be 0');
  const clampIdx = (i: number, lo: number, hi: number) => Math.min(Math.max(i, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clampIdx(s, 0, dim);
    e = clampIdx(e, 0, dim);
    return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = clampIdx(s, 0, dim - 1);
  e = clampIdx(e, -1, dim - 1);
  return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
}
