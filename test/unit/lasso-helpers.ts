import type { Rng } from '../../engine/train/rng';

/** Lasso test problems with a known solution, shared by the OBProx-SG tests (element-wise and group). */

/** A random n x d matrix with orthogonal columns of squared norm n (X^T X = n I), by Gram-Schmidt; columns as arrays. */
export function orthogonalDesign(n: number, d: number, rng: Rng): Float64Array[] {
  const cols: Float64Array[] = [];
  for (let j = 0; j < d; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const c of cols) {
      const dot = v.reduce((a, x, i) => a + x * c[i]!, 0) / n;
      for (let i = 0; i < n; i++) v[i] = v[i]! - dot * c[i]!;
    }
    const s = Math.sqrt(n) / Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    cols.push(v.map((x) => x * s));
  }
  return cols;
}

/** The least-squares part of the objective, 1/(2n) |Xw - y|^2, for X given by columns. */
export function halfMeanSquaredResidual(X: readonly Float64Array[], y: Float64Array, w: ArrayLike<number>): number {
  let r2 = 0;
  for (let i = 0; i < y.length; i++) {
    let r = -y[i]!;
    for (let j = 0; j < X.length; j++) r += X[j]![i]! * w[j]!;
    r2 += r * r;
  }
  return r2 / (2 * y.length);
}
