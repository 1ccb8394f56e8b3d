import type { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import { ModelSession } from '../../engine/runtime/session';
import type { HostTensor } from '../../engine/io/tensor';

/** Shared by the autodiff, grad-check and golden gradient tests. */

/** max |a - b| / max |b|: the error measure of the golden tests. */
export function relErr(a: HostTensor | Float32Array, b: HostTensor | Float32Array): number {
  const x = (a instanceof Float32Array ? a : a.data) as Float32Array;
  const y = (b instanceof Float32Array ? b : b.data) as Float32Array;
  if (x.length !== y.length) throw new RangeError(`lengths differ: ${x.length} vs ${y.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs a graph once (parameters as inputs) and returns all outputs. */
export async function runGraph(g: Graph, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const session = await ModelSession.create(toOnnx(g, { params: 'inputs' }));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Deterministic uniform [-1, 1) values (LCG), so failures reproduce. */
export function randomData(n: number, seed: number): Float32Array {
  const d = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32) * 2 - 1;
  }
  return d;
}
