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

const BINOMIAL = [1, 4, 6, 4, 1];

/** 5x5 Gaussian [1,4,6,4,1]^T[1,4,6,4,1]/256 (times `factor`), reflect-padded, per channel. */
export function gaussianBlur(g: Graph, x: Value, factor = 1): Value {
  const c = x.shape[1]!;
  const k = new Float32Array(c * 25);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) k[ch * 25 + i * 5 + j] = (factor * BINOMIAL[i]! * BINOMIAL[j]!) / 256;
  const kernel = g.constant({ dtype: 'float32', shape: [c, 1, 5, 5], data: k });
  const padded = g.pad(x, [0, 0, 2, 2, 0, 0, 2, 2], 'reflect');
  return g.conv(padded, kernel, undefined, { pads: [0, 0, 0, 0], group: c });
}

/** Burt & Adelson expand: zeros between samples, then 4 x the Gaussian. */
function expand(g: Graph, x: Value): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const spread = g.pad(g.reshape(x, [n, c, h, 1, w, 1]), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
  return gaussianBlur(g, g.reshape(spread, [n, c, 2 * h, 2 * w]), 4);
}

/**
 * Laplacian pyramid of `levels` entries: levels-1 band-pass differences (x - expand(reduce(blur x)),
 * reduce = 2x2 average pool), then the remaining low-pass image.
 */
export function laplacianPyramid(g: Graph, x: Value, levels = 5): Value[] {
  const [, , h, w] = x.shape as [number, number, number, number];
  const m = 2 ** (levels - 1);
  if (h % m !== 0 || w % m !== 0) throw new RangeError(`laplacianPyramid: ${levels} levels need H and W divisible by ${m}, got ${h}x${w}`);
  // The smallest blurred level is reflect-padded by 2, which needs at least 3 pixels.
  if (Math.min(h, w) / (m / 2) < 3) throw new RangeError(`laplacianPyramid: ${levels} levels need H and W of at least ${(3 * m) / 2}, got ${h}x${w}`);
  const pyramid: Value[] = [];
  let current = x;
  for (let i = 0; i < levels - 1; i++) {
    const reduced = g.op1('AveragePool', [gaussianBlur(g, current)], { kernel_shape: [2, 2], strides: [2, 2] });
    pyramid.push(g.sub(current, expand(g, reduced)));
    current = reduced;
  }
  pyramid.push(current);
  return pyramid;
}

/** sum_i 2^i mean|x_i| over the Laplacian pyramid of x. */
function pyramidNorm(g: Graph, x: Value, levels: number): Value {
  const terms = laplacianPyramid(g, x, levels).map((level, i) => g.mul(g.reduceMean(g.abs(level), undefined, false), g.scalar(2 ** i)));
  return terms.reduce((s, t) => g.add(s, t));
}

/**
 * Lap(a, b) = sum_i 2^i mean|a_i - b_i| over the two pyramids. The pyramid is linear, so
 * a_i - b_i is level i of the pyramid of a - b: one pyramid instead of two.
 */
export function laplacianLoss(g: Graph, a: Value, b: Value, levels = 5): Value {
  checkPair(a, b, 'laplacianLoss');
  return pyramidNorm(g, g.sub(a, b), levels);
}

/**
 * MultiLap(p, t) = Lap(p - G(p), t - G(t)) + Lap(p, t) (Jiang et al., PCS 2024). By linearity
 * of G and of the pyramid this is pyramidNorm(e - G(e)) + pyramidNorm(e) with e = p - t, so the
 * teacher side costs nothing beyond the subtraction.
 */
export function multiLapLoss(g: Graph, pred: Value, target: Value, levels = 5): Value {
  checkPair(pred, target, 'multiLapLoss');
  const e = g.sub(pred, target);
  return g.add(pyramidNorm(g, g.sub(e, gaussianBlur(g, e)), levels), pyramidNorm(g, e, levels));
}

/** The paper's distillation objective: MultiLap(student, teacher) + hrWeight * L1(student, HR). */
export function distillationLoss(g: Graph, student: Value, teacher: Value, hr: Value, hrWeight = 0.1): Value {
  return g.add(multiLapLoss(g, student, teacher), g.mul(l1Loss(g, student, hr), g.scalar(hrWeight)));
}

