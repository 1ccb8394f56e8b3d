/** Element types a checkpoint or graph tensor can hold on the host. */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'bool';

/**
 * A tensor in host memory. Half-precision checkpoint tensors are widened to float32 on load
 * (`sourceDType` remembers what the file held), so graph code only sees float32/int64.
 */
export interface HostTensor {
  readonly dtype: 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  readonly sourceDType?: DType;
}

/** Parameter and buffer tensors keyed by their PyTorch names, in file order. */
export type StateDict = Map<string, HostTensor>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function float32Tensor(shape: readonly number[], data?: Float32Array): HostTensor {
  const n = numel(shape);
  if (data && data.length !== n) {
    throw new RangeError(`float32Tensor: data has ${data.length} elements, shape [${shape.join(', ')}] needs ${n}`);
  }
  return { dtype: 'float32', shape: [...shape], data: data ?? new Float32Array(n) };
}
