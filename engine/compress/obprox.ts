import type { Shape } from '../graph/value';
import type { OBProxPenalty } from '../train/config';
import type { OBProxSettings, Optimizer, OptimizerState, ParamSet } from '../train/optim';
import { coupledHalfSpaceStep, coupledProxStep, edsrCoupledGroups, type CoupledGroups } from './coupled';
import { channelGroups, groupProxStep, halfSpaceStep, type ChannelGroups } from './group';

/**
 * OBProx-SG (Chen et al., "Orthant Based Proximal Stochastic Gradient Method for l1-Regularized
 * Optimization", 2020) for F(w) = f(w) + lambda * ||w_R||_1, R the regularised parameters.
 *
 * - Prox-SG step: w <- soft(w - lr g, lr lambda), soft(z, t) = sign(z) max(|z| - t, 0). It makes
 *   exact zeros, so these steps find the zero pattern.
 * - Orthant step: on the orthant face of the current signs s (zeros stay zero), F is smooth with
 *   gradient g + lambda s; step along it and project back onto the face: a coordinate that would
 *   cross zero becomes zero. Signs never flip, so the pattern is refined, never re-grown.
 * - Switch rule (the paper's N_P / N_O): `proxSteps` Prox-SG steps, then `orthantSteps` orthant
 *   steps, repeating; orthantSteps 0 means orthant steps to the end.
 *
 * The base direction is the plain stochastic gradient, as in the paper. Unregularised parameters
 * (biases, norms, position tables) take plain SGD steps. The only state is the step counter.
 *
 * `penalty: 'group'` swaps the element-wise L1 for group lasso over output channels (group.ts):
 * the Prox-SG step group soft-thresholds, and the 'orthant' phase takes HSPG's half-space steps.
 * `penalty: 'coupled'` (EDSR only) does the same over one group per feature channel and one per
 * residual block (coupled.ts); upsample.0 and conv_last then take plain SGD steps.
 */

export type OBProxPhase = 'prox' | 'orthant';

/** The trainer's settings plus the penalty (config `optim.penalty`; absent: 'l1'). */
export type OBProxOptions = OBProxSettings & { penalty?: OBProxPenalty };

/** Conv and linear weights carry the penalty; biases, norm scales and position tables do not. */
export function isRegularized(key: string, shape: Shape): boolean {
  return shape.length >= 2 && key.endsWith('.weight');
}

/** The phase of step `t` (0-based) under the switch rule. */
export function obproxPhase(s: Pick<OBProxSettings, 'proxSteps' | 'orthantSteps'>, t: number): OBProxPhase {
  if (s.orthantSteps === 0) return t < s.proxSteps ? 'prox' : 'orthant';
  return t % (s.proxSteps + s.orthantSteps) < s.proxSteps ? 'prox' : 'orthant';
}

export class OBProx implements Optimizer {
  private t: number;
  /** Keys of the regularised parameters (in group mode: the weights and their groups' biases). */
  readonly regularized: ReadonlySet<string>;
  /** Group mode: the output-channel groups of the regularised weights; empty for 'l1'. */
  readonly groups: readonly ChannelGroups[];
  /** Coupled mode: the channel and block groups; absent otherwise. */
  readonly coupled?: CoupledGroups;

  constructor(
    readonly settings: OBProxOptions,
    params: ParamSet,
    shapes: ReadonlyMap<string, Shape>,
    state?: OptimizerState,
    regularized: (key: string, shape: Shape) => boolean = isRegularized,
  ) {
    if (!(settings.lambda >= 0 && Number.isFinite(settings.lambda)))
      throw new RangeError(`obprox: lambda must be a number >= 0, got ${settings.lambda}`);
    for (const f of ['proxSteps', 'orthantSteps'] as const) {
      if (!Number.isInteger(settings[f]) || settings[f] < 0)
        throw new RangeError(`obprox: ${f} must be an integer >= 0, got ${settings[f]}`);
    }
    if (settings.orthantSteps > 0 && settings.proxSteps === 0)
      throw new RangeError('obprox: orthant steps alone never create zeros: proxSteps must be >= 1');
    const penalty = settings.penalty ?? 'l1';
    if (penalty !== 'l1' && penalty !== 'group' && penalty !== 'coupled')
      throw new RangeError(`obprox: penalty must be l1, group or coupled, got ${String(penalty)}`);
    const keys = [...params.keys()].filter((k) => {
      const shape = shapes.get(k);
      if (!shape) throw new RangeError(`obprox: no shape for parameter ${k}`);
      return regularized(k, shape);
    });
    this.groups = penalty === 'group' ? channelGroups(keys, params, shapes) : [];
    if (penalty === 'coupled') {
      this.coupled = edsrCoupledGroups(shapes);
      this.regularized = new Set(this.coupled.keys);
    } else this.regularized = new Set([...keys, ...this.groups.flatMap((g) => (g.bias ? [g.bias] : []))]);
    this.t = state?.step ?? 0;
  }

  get stepCount(): number {
    return this.t;
  }

  /** Phase of the next step. */
  get phase(): OBProxPhase {
    return obproxPhase(this.settings, this.t);
  }

  /** No per-parameter buffers: the step counter is the whole state. */
  buffers(): ReadonlyMap<string, ParamSet> {
    return new Map();
  }

  /** One step in place; returns the phase it took. */
  step(params: ParamSet, grads: ReadonlyMap<string, Float32Array>, lr: number): OBProxPhase {
    const phase = this.phase;
    const { lambda } = this.settings;
    const grad = (key: string, p: Float32Array) => {
      const g = grads.get(key);
      if (!g || g.length !== p.length) throw new RangeError(`obprox: gradient for ${key} is missing or has the wrong size`);
      return g;
    };
    for (const [key, p] of params) {
      const g = grad(key, p);
      const elementwise = this.groups.length === 0 && !this.coupled; // group modes step their tensors per group below
      if (!this.regularized.has(key)) sgdStep(p, g, lr);
      else if (elementwise && phase === 'prox') proxStep(p, g, lr, lr * lambda);
      else if (elementwise) orthantStep(p, g, lr, lambda);
    }
    if (this.coupled) {
      if (phase === 'prox') coupledProxStep(params, grads, this.coupled, lr, lambda);
      else coupledHalfSpaceStep(params, grads, this.coupled, lr, lambda);
    }
    for (const grp of this.groups) {
      const w = params.get(grp.weight)!;
      const b = grp.bias === undefined ? undefined : params.get(grp.bias)!;
      const p = { w, ...(b ? { b } : {}) };
      const g = { w: grad(grp.weight, w), ...(b ? { b: grad(grp.bias!, b) } : {}) };
      if (phase === 'prox') groupProxStep(p, g, grp.rowLen, lr, lambda);
      else halfSpaceStep(p, g, grp.rowLen, lr, lambda);
    }
    this.t++;
    return phase;
  }
}

function sgdStep(p: Float32Array, g: Float32Array, lr: number): void {
  for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * g[i]!;
}

/** Gradient step, then the l1 proximal operator (soft threshold by lr * lambda). */
export function proxStep(p: Float32Array, g: Float32Array, lr: number, shrink: number): void {
  for (let i = 0; i < p.length; i++) {
    const z = p[i]! - lr * g[i]!;
    p[i] = z > shrink ? z - shrink : z < -shrink ? z + shrink : 0;
  }
}

/** Gradient step on f + lambda sign(w).w within the orthant face of w, projected back onto it. */
export function orthantStep(p: Float32Array, g: Float32Array, lr: number, lambda: number): void {
  for (let i = 0; i < p.length; i++) {
    const w = p[i]!;
    if (w === 0) continue; // zeros are the face's fixed coordinates
    const z = w - lr * (g[i]! + (w > 0 ? lambda : -lambda));
    p[i] = (w > 0 && z > 0) || (w < 0 && z < 0) ? z : 0;
  }
}

/** lambda * sum |w| over the regularised parameters: the penalty half of F. */
export function l1Penalty(params: ReadonlyMap<string, Float32Array>, regularized: ReadonlySet<string>, lambda: number): number {
  let s = 0;
  for (const key of regularized) {
    const p = params.get(key);
    if (!p) throw new RangeError(`l1Penalty: no parameter ${key}`);
    for (let i = 0; i < p.length; i++) s += Math.abs(p[i]!);
  }
  return lambda * s;
}

/** The optimizer factory the trainer takes for `optim.type: 'obprox'`. */
export function makeOBProx(settings: OBProxOptions, params: ParamSet, shapes: ReadonlyMap<string, Shape>, state?: OptimizerState): OBProx {
  return new OBProx(settings, params, shapes, state);
}
