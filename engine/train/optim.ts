/**
 * Optimizers on the host: parameters, gradients and moments are Float32Arrays keyed by the
 * parameter's checkpoint name; the update is a plain loop per tensor (no allocation per step).
 * Formulas follow PyTorch's torch.optim.Adam / AdamW (non-amsgrad, non-foreach).
 */

export type ParamSet = Map<string, Float32Array>;

/** What the trainer needs of an optimizer: a step, and its state for checkpoints. */
export interface Optimizer {
  /** Steps taken. */
  readonly stepCount: number;
  step(params: ParamSet, grads: ReadonlyMap<string, Float32Array>, lr: number): unknown;
  /** Per-parameter buffers by checkpoint prefix (Adam: `adam.m`, `adam.v`); empty when it keeps none. */
  buffers(): ReadonlyMap<string, ParamSet>;
}

/** An optimizer's saved state: the step counter and the buffers `buffers()` returned. */
export interface OptimizerState {
  step: number;
  buffers: ReadonlyMap<string, ParamSet>;
}

/**
 * OBProx-SG (L1-regularised training for pruning). Its implementation lives in engine/compress
 * (a layer above this one), so the trainer is handed it as an optimizer factory.
 */
export interface OBProxSettings {
  type: 'obprox';
  /** Weight of the L1 penalty on conv/linear weights. */
  lambda: number;
  /** Prox-SG steps per cycle (N_P): they find the zero pattern. */
  proxSteps: number;
  /** Orthant steps per cycle (N_O); 0: orthant steps until the end once the Prox-SG steps are done. */
  orthantSteps: number;
}

export const ADAM_BUFFERS = ['adam.m', 'adam.v'] as const;

export interface AdamConfig {
  /** 'adam': L2 penalty added to the gradient; 'adamw': decoupled weight decay. */
  type: 'adam' | 'adamw';
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

export const ADAM_DEFAULTS: AdamConfig = { type: 'adam', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 };

export interface AdamState {
  /** Steps taken (PyTorch's `state['step']`). */
  step: number;
  m: ParamSet;
  v: ParamSet;
}

export class Adam implements Optimizer {
  readonly state: AdamState;

  constructor(
    readonly config: AdamConfig,
    params: ParamSet,
    state?: AdamState,
  ) {
    const [b1, b2] = config.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new RangeError(`adam: betas must be in [0, 1), got [${b1}, ${b2}]`);
    if (!(config.eps > 0)) throw new RangeError(`adam: eps must be positive, got ${config.eps}`);
    if (!(config.weightDecay >= 0)) throw new RangeError(`adam: weightDecay must be >= 0, got ${config.weightDecay}`);
    if (state) {
      for (const [k, p] of params) {
        if (state.m.get(k)?.length !== p.length || state.v.get(k)?.length !== p.length) {
          throw new RangeError(`adam: saved moments for ${k} are missing or have the wrong size`);
        }
      }
      this.state = state;
    } else {
      const zeros = () => new Map([...params].map(([k, p]) => [k, new Float32Array(p.length)]));
      this.state = { step: 0, m: zeros(), v: zeros() };
    }
  }

  get stepCount(): number {
    return this.state.step;
  }

  buffers(): ReadonlyMap<string, ParamSet> {
    return new Map([
      ['adam.m', this.state.m],
      ['adam.v', this.state.v],
    ]);
  }

  /** One update of every parameter in place with learning rate `lr`. */
  step(params: ParamSet, grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    const { betas, eps, weightDecay, type } = this.config;
    const [b1, b2] = betas;
    const { stepSize, bc2Sqrt, decay } = adamScalars(this.config, ++this.state.step, lr);
    const l2 = type === 'adam' ? weightDecay : 0;
    for (const [key, p] of params) {
      const g = grads.get(key);
      if (!g || g.length !== p.length) throw new RangeError(`adam: gradient for ${key} is missing or has the wrong size`);
      const m = this.state.m.get(key)!;
      const v = this.state.v.get(key)!;
      for (let i = 0; i < p.length; i++) {
        const gi = l2 === 0 ? g[i]! : g[i]! + l2 * p[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
      }
    }
  }
}

/** Adam's per-step factors for step `t` (1-based): bias corrections and AdamW's decoupled decay. */
export function adamScalars(config: AdamConfig, t: number, lr: number): { stepSize: number; bc2Sqrt: number; decay: number } {
  const [b1, b2] = config.betas;
  return {
    stepSize: lr / (1 - b1 ** t),
    bc2Sqrt: Math.sqrt(1 - b2 ** t),
    decay: config.type === 'adamw' ? 1 - lr * config.weightDecay : 1,
  };
}

/** Global L2 norm over all gradients. */
export function globalNorm(grads: ReadonlyMap<string, Float32Array>): number {
  let sum = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}

/**
 * torch.nn.utils.clip_grad_norm_: scales all gradients in place by maxNorm / (norm + 1e-6)
 * when the global norm exceeds maxNorm. Returns the norm before clipping.
 */
export function clipGradNorm(grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return norm;
}

/** Exponential moving average of weights (BasicSR's model_ema): ema = decay * ema + (1 - decay) * p. */
export class Ema {
  readonly weights: ParamSet;

  constructor(
    readonly decay: number,
    params: ParamSet,
    weights?: ParamSet,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`ema: decay must be in [0, 1), got ${decay}`);
    this.weights = weights ?? copyParams(params);
  }

  /** `decay` overrides the configured one for this update (warm-up of the average). */
  update(params: ParamSet, decay = this.decay): void {
    const d = decay;
    for (const [key, p] of params) {
      const e = this.weights.get(key);
      if (!e || e.length !== p.length) throw new RangeError(`ema: no average for ${key}`);
      for (let i = 0; i < p.length; i++) e[i] = d * e[i]! + (1 - d) * p[i]!;
    }
  }
}

export function copyParams(params: ReadonlyMap<string, Float32Array>): ParamSet {
  return new Map([...params].map(([k, p]) => [k, Float32Array.from(p)]));
}
