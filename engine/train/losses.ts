import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';

/**
 * Training losses built from graph primitives, so the autodiff differentiates them like any
 * other part of the network. Each returns a scalar (shape []) Value.
 */

function checkPair(p: Value, t: Value, what: string): void {
  if (p.shape.join() !== t.shape.join()) throw new RangeError(`${what}: prediction [${p.shape}] and target [${t.shape}] differ in shape`);
}

/** Mean absolute error. */
export function l1Loss(g: Graph, pred: Value, target: Value): Value {
  checkPair(pred, target, 'l1Loss');
  return g.reduceMean(g.abs(g.sub(pred, target)), undefined, false);
}

/** Mean squared error. */
export function mseLoss(g: Graph, pred: Value, target: Value): Value {
  checkPair(pred, target, 'mseLoss');
  const d = g.sub(pred, target);
  return g.reduceMean(g.mul(d, d), undefined, false);
}

/** Charbonnier (smooth L1): mean sqrt(d^2 + eps^2), eps 1e-3 as in LapSRN. */
export function charbonnierLoss(g: Graph, pred: Value, target: Value, eps = 1e-3): Value {
  checkPair(pred, target, 'charbonnierLoss');
  const d = g.sub(pred, target);
  return g.reduceMean(g.sqrt(g.add(g.mul(d, d), g.scalar(eps * eps))), undefined, false);
}

// ---- the paper's MultiLap loss ----

/*
 * Every step of the pyramid is separable and linear along each image axis: the 5-tap
 * [1,4,6,4,1]/16 blur with reflect padding, the 2-tap average of the 2x2 pool, zero insertion.
 * So each step is one constant [out, in] matrix per axis, applied as two MatMuls; their
 * gradients are MatMuls with the transposed constants (no padding to fold back, no
 * zero-inserted image in memory). Measured faster than Pad + depthwise Conv + AveragePool.
 */

const BINOMIAL = [1, 4, 6, 4, 1];

/** Reflect index without edge repeat, as ONNX's and PyTorch's 'reflect' padding. */
function reflect(i: number, n: number): number {
  return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/** Row-major [rows, cols] matrix in float64 while it is composed. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

function matmul(a: Mat, b: Mat): Mat {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k]!;
      if (v !== 0) for (let j = 0; j < b.cols; j++) out[i * b.cols + j]! += v * b.data[k * b.cols + j]!;
    }
  return { rows: a.rows, cols: b.cols, data: out };
}

/** 1-D blur over n samples, reflect-padded by 2, times gain. */
function blurMatrix(n: number, gain = 1): Mat {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let t = -2; t <= 2; t++) data[i * n + reflect(i + t, n)]! += (gain * BINOMIAL[t + 2]!) / 16;
  return { rows: n, cols: n, data };
}

/** reduce: blur, then average sample pairs (one axis of the 2x2 AveragePool): [n/2, n]. */
function downMatrix(n: number): Mat {
  const pool = new Float64Array((n / 2) * n);
  for (let i = 0; i < n / 2; i++) pool[i * n + 2 * i] = pool[i * n + 2 * i + 1] = 0.5;
  return matmul({ rows: n / 2, cols: n, data: pool }, blurMatrix(n));
}

/** expand: samples to the even positions of 2n, zeros between, then 2 x blur (4 x over both axes): [2n, n]. */
function upMatrix(n: number): Mat {
  const spread = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++) spread[2 * i * n + i] = 1;
  return matmul(blurMatrix(2 * n, 2), { rows: 2 * n, cols: n, data: spread });
}

const matrixCache = new WeakMap<Graph, Map<string, Value>>();

/** The matrix (or its transpose) as a graph constant, once per graph. */
function constMatrix(g: Graph, key: string, make: () => Mat, transposed: boolean): Value {
  const cache = matrixCache.get(g) ?? new Map<string, Value>();
  matrixCache.set(g, cache);
  const id = `${key}${transposed ? 'T' : ''}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const m = make();
  const data = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++)
    for (let j = 0; j < m.cols; j++) data[transposed ? j * m.rows + i : i * m.cols + j] = m.data[i * m.cols + j]!;
  const v = g.constant({ dtype: 'float32', shape: transposed ? [m.cols, m.rows] : [m.rows, m.cols], data });
  cache.set(id, v);
  return v;
}

type AxisOp = 'blur' | 'down' | 'up';

function axisMatrix(op: AxisOp, n: number): Mat {
  return op === 'blur' ? blurMatrix(n) : op === 'down' ? downMatrix(n) : upMatrix(n);
}

/** Applies `op` along H and W of x [N, C, H, W]: rows (H) @ x @ cols(W)^T. */
function separable(g: Graph, x: Value, op: AxisOp): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  // The blur runs at the input size, or at twice it for 'up'; reflect padding by 2 needs 3 samples.
  const blurred = op === 'up' ? 2 * Math.min(h, w) : Math.min(h, w);
  if (blurred < 3 || (op === 'down' && (h % 2 !== 0 || w % 2 !== 0))) throw new RangeError(`${op} cannot apply to ${h}x${w}`);
  const cols = constMatrix(g, `${op}${w}`, () => axisMatrix(op, w), true); // [W, W']
  const rows = constMatrix(g, `${op}${h}`, () => axisMatrix(op, h), false); // [H', H]
  const y = g.matmul(rows, g.matmul(g.reshape(x, [n * c, h, w]), cols));
  return g.reshape(y, [n, c, y.shape[1]!, y.shape[2]!]);
}

/** 5x5 Gaussian [1,4,6,4,1]^T[1,4,6,4,1]/256 with reflect padding, per channel. */
export function gaussianBlur(g: Graph, x: Value): Value {
  return separable(g, x, 'blur');
}

/**
 * Laplacian pyramid of `levels` entries (Burt & Adelson, as in the paper's code): levels-1
 * band-pass differences x - expand(reduce(x)), reduce = blur then 2x2 average pool, expand =
 * zero insertion then 4 x blur; then the remaining low-pass image.
 */
export function laplacianPyramid(g: Graph, x: Value, levels = 5): Value[] {
  const [, , h, w] = x.shape as [number, number, number, number];
  const m = 2 ** (levels - 1);
  if (h % m !== 0 || w % m !== 0) throw new RangeError(`laplacianPyramid: ${levels} levels need H and W divisible by ${m}, got ${h}x${w}`);
  // The smallest blurred level is reflect-padded by 2, which needs at least 3 pixels.
  if (Math.min(h, w) / (m / 2) < 3)
    throw new RangeError(`laplacianPyramid: ${levels} levels need H and W of at least ${(3 * m) / 2}, got ${h}x${w}`);
  const pyramid: Value[] = [];
  let current = x;
  for (let i = 0; i < levels - 1; i++) {
    const reduced = separable(g, current, 'down');
    pyramid.push(g.sub(current, separable(g, reduced, 'up')));
    current = reduced;
  }
  pyramid.push(current);
  return pyramid;
}

/**
 * Weight of pyramid level i (0 finest): 'paper' 2^i as in Jiang et al.; 'inverse' 2^-i, because
 * with 2^i the coarse low-pass term dominates the gradient and short distillation runs trail L1.
 */
export const LEVEL_WEIGHTS = ['paper', 'inverse'] as const;
export type LevelWeights = (typeof LEVEL_WEIGHTS)[number];

export function isLevelWeights(v: unknown): v is LevelWeights {
  return (LEVEL_WEIGHTS as readonly unknown[]).includes(v);
}

function levelWeight(i: number, weights: LevelWeights): number {
  return weights === 'paper' ? 2 ** i : 2 ** -i;
}

/** sum_i w_i mean|x_i| over the Laplacian pyramid of x. */
function pyramidNorm(g: Graph, x: Value, levels: number, weights: LevelWeights): Value {
  const terms = laplacianPyramid(g, x, levels).map((level, i) =>
    g.mul(g.reduceMean(g.abs(level), undefined, false), g.scalar(levelWeight(i, weights))),
  );
  return terms.reduce((s, t) => g.add(s, t));
}

/**
 * Lap(a, b) = sum_i w_i mean|a_i - b_i| over the two pyramids (w_i = 2^i in the paper). The
 * pyramid is linear, so a_i - b_i is level i of the pyramid of a - b: one pyramid instead of two.
 */
export function laplacianLoss(g: Graph, a: Value, b: Value, levels = 5, weights: LevelWeights = 'paper'): Value {
  checkPair(a, b, 'laplacianLoss');
  return pyramidNorm(g, g.sub(a, b), levels, weights);
}

/**
 * MultiLap(p, t) = Lap(p - G(p), t - G(t)) + Lap(p, t) (Jiang et al., PCS 2024). By linearity
 * of G and of the pyramid this is pyramidNorm(e - G(e)) + pyramidNorm(e) with e = p - t, so the
 * teacher side costs nothing beyond the subtraction.
 */
export function multiLapLoss(g: Graph, pred: Value, target: Value, levels = 5, weights: LevelWeights = 'paper'): Value {
  checkPair(pred, target, 'multiLapLoss');
  const e = g.sub(pred, target);
  return g.add(pyramidNorm(g, g.sub(e, gaussianBlur(g, e)), levels, weights), pyramidNorm(g, e, levels, weights));
}

/** The paper's distillation objective: MultiLap(student, teacher) + hrWeight * L1(student, HR). */
export function distillationLoss(
  g: Graph,
  student: Value,
  teacher: Value,
  hr: Value,
  hrWeight = 0.1,
  weights: LevelWeights = 'paper',
): Value {
  return g.add(multiLapLoss(g, student, teacher, 5, weights), g.mul(l1Loss(g, student, hr), g.scalar(hrWeight)));
}
