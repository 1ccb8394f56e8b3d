import type { HostTensor } from '../io/tensor';

/** Element types that flow through our graphs. */
export type ElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8';

export type Shape = readonly number[];

/** What a value is: a fed input, a learnable parameter, a constant, or a node output. */
export type ValueKind = 'input' | 'param' | 'const' | 'node';

/**
 * A named tensor in a graph with a static shape. Shapes are always fully known: training
 * graphs and inference graphs are built for a concrete input size (models are cheap to rebuild).
 */
export interface Value {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: ElemType;
  readonly kind: ValueKind;
  /** Set for constants (and for params once weights are bound): lets shape rules read Reshape/Slice arguments. */
  readonly data?: HostTensor;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Normalises a possibly negative axis against a rank, throwing RangeError when out of range. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`${what} ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy-style multidirectional broadcast of two shapes. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`cannot broadcast ${shapeString(a)} with ${shapeString(b)}`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}
