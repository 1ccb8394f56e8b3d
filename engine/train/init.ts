import type { Shape } from '../graph/value';
import type { FamilyName } from '../zoo/registry';
import { Rng } from './rng';

/**
 * Parameter initialisation for from-scratch training, per family, as the reference
 * implementations do it: PyTorch's default Conv2d init (kaiming-uniform with a = sqrt 5, i.e.
 * U(+-1/sqrt(fan_in)) for weight and bias); BasicSR's EDSR scales its residual-block convs to
 * 0.1 x kaiming-normal with zero bias; SwinIR's `_init_weights` gives Linear layers and the
 * relative-position tables trunc-normal(0.02) with zero bias, LayerNorms weight 1 / bias 0.
 */

export const STREAM_INIT = 2;

type Init =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'truncNormal'; std: number }
  | { kind: 'const'; value: number };

function fanIn(shape: Shape): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The weight whose bias `key` is, for fan-in (`x.bias` -> `x.weight`). */
function siblingWeight(key: string, shapes: ReadonlyMap<string, Shape>): Shape | undefined {
  return key.endsWith('.bias') ? shapes.get(key.slice(0, -'.bias'.length) + '.weight') : undefined;
}

function torchDefault(key: string, shape: Shape, shapes: ReadonlyMap<string, Shape>): Init {
  const w = shape.length >= 2 ? shape : siblingWeight(key, shapes);
  if (!w) throw new Error(`init: no rule for parameter ${key} [${shape.join(', ')}]`);
  return { kind: 'uniform', bound: 1 / Math.sqrt(fanIn(w)) };
}

const RULES: { readonly [F in FamilyName]: (key: string, shape: Shape, shapes: ReadonlyMap<string, Shape>) => Init } = {
  edsr(key, shape, shapes) {
    if (/^body\.\d+\.conv[12]\.weight$/.test(key)) return { kind: 'normal', std: 0.1 * Math.sqrt(2 / fanIn(shape)) };
    if (/^body\.\d+\.conv[12]\.bias$/.test(key)) return { kind: 'const', value: 0 };
    return torchDefault(key, shape, shapes);
  },
  swinir(key, shape, shapes) {
    if (key.endsWith('relative_position_bias_table')) return { kind: 'truncNormal', std: 0.02 };
    const isNorm = /(^|\.)norm\d*\.(weight|bias)$/.test(key);
    if (isNorm) return { kind: 'const', value: key.endsWith('.weight') ? 1 : 0 };
    const w = shape.length >= 2 ? shape : siblingWeight(key, shapes);
    if (w?.length === 2) return key.endsWith('.bias') ? { kind: 'const', value: 0 } : { kind: 'truncNormal', std: 0.02 };
    return torchDefault(key, shape, shapes);
  },
  // BasicSR: kaiming-normal x 0.1 and zero biases in the dense blocks, PyTorch's defaults elsewhere.
  rrdbnet(key, shape, shapes) {
    if (/\.rdb\d\.conv\d\.weight$/.test(key)) return { kind: 'normal', std: 0.1 * Math.sqrt(2 / fanIn(shape)) };
    if (/\.rdb\d\.conv\d\.bias$/.test(key)) return { kind: 'const', value: 0 };
    return torchDefault(key, shape, shapes);
  },
  // nn.PReLU starts every slope at 0.25.
  srvgg(key, shape, shapes) {
    return shape.length === 1 && !key.endsWith('.bias') ? { kind: 'const', value: 0.25 } : torchDefault(key, shape, shapes);
  },
};

function fill(init: Init, n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (init.kind) {
      case 'uniform':
        out[i] = rng.uniform(-init.bound, init.bound);
        break;
      case 'normal':
        out[i] = init.std * rng.normal();
        break;
      case 'truncNormal': {
        // timm's trunc_normal_ cuts at +-2 (absolute), i.e. +-100 std at 0.02: redraws are rare.
        let z: number;
        do z = init.std * rng.normal();
        while (z < -2 || z > 2);
        out[i] = z;
        break;
      }
      case 'const':
        out[i] = init.value;
    }
  }
  return out;
}

/** Fresh parameters for every key, drawn from the seed's init stream in key order. */
export function initParams(family: FamilyName, shapes: ReadonlyMap<string, Shape>, seed: number): Map<string, Float32Array> {
  const rng = Rng.seeded(seed, STREAM_INIT);
  const out = new Map<string, Float32Array>();
  for (const [key, shape] of shapes)
    out.set(
      key,
      fill(
        RULES[family](key, shape, shapes),
        shape.reduce((a, b) => a * b, 1),
        rng,
      ),
    );
  return out;
}
