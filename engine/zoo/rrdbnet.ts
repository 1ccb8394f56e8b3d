import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import type { ArchFamily } from './types';
import { positiveInt } from './config-checks';
import { conv3x3, leakyRelu, nearestUpsample, pixelUnshuffle } from './layers';

/**
 * RRDBNet (ESRGAN, Wang et al. 2018) in BasicSR's layout: option names follow BasicSR's
 * `RRDBNet` arguments and parameter names its state-dict keys, so Real-ESRGAN and BasicSR
 * checkpoints load as they are. Two nearest-neighbour x2 stages always follow the body: x4
 * models take the image itself, x2 and x1 ones (Real-ESRGAN x2plus) a pixel-unshuffled input.
 */
export interface RRDBNetConfig {
  num_in_ch: 3;
  num_out_ch: 3;
  num_feat: number;
  num_block: number;
  num_grow_ch: number;
  scale: 1 | 2 | 4;
}

const DEFAULTS: RRDBNetConfig = { num_in_ch: 3, num_out_ch: 3, num_feat: 64, num_block: 23, num_grow_ch: 32, scale: 4 };

/** Slope of every LeakyReLU and weight of each residual branch (fixed in the architecture). */
const SLOPE = 0.2;
const RESIDUAL = 0.2;

function validate(partial: Partial<RRDBNetConfig>): RRDBNetConfig {
  const c = { ...DEFAULTS, ...partial };
  for (const field of ['num_in_ch', 'num_out_ch'] as const) {
    if (c[field] !== 3) throw new RangeError(`rrdbnet: ${field} must be 3 (RGB), got ${String(c[field])}`);
  }
  positiveInt('rrdbnet', c.num_feat, 'num_feat');
  positiveInt('rrdbnet', c.num_block, 'num_block');
  positiveInt('rrdbnet', c.num_grow_ch, 'num_grow_ch');
  if (![1, 2, 4].includes(c.scale)) throw new RangeError(`rrdbnet: scale must be 1, 2 or 4, got ${String(c.scale)}`);
  return c;
}

/** Input pixels folded into channels before conv_first: the two x2 stages then restore `scale`. */
function unshuffleFactor(c: RRDBNetConfig): number {
  return 4 / c.scale;
}

/** ResidualDenseBlock: five densely connected convs, x + conv5(...) * 0.2. */
function denseBlock(g: Graph, x: Value, key: string, feat: number, grow: number): Value {
  const feats = [x];
  for (let i = 1; i <= 4; i++) {
    feats.push(leakyRelu(g, conv3x3(g, g.concat([...feats], 1), `${key}.conv${i}`, feat + (i - 1) * grow, grow), SLOPE));
  }
  const x5 = conv3x3(g, g.concat([...feats], 1), `${key}.conv5`, feat + 4 * grow, feat);
  return g.add(g.mul(x5, g.scalar(RESIDUAL)), x);
}

/** RRDB: three dense blocks in a row, x + out * 0.2. */
function rrdb(g: Graph, x: Value, key: string, feat: number, grow: number): Value {
  let y = x;
  for (let i = 1; i <= 3; i++) y = denseBlock(g, y, `${key}.rdb${i}`, feat, grow);
  return g.add(g.mul(y, g.scalar(RESIDUAL)), x);
}

function build(g: Graph, input: Value, c: RRDBNetConfig): Value {
  const r = unshuffleFactor(c);
  const feat = conv3x3(g, pixelUnshuffle(g, input, r), 'conv_first', c.num_in_ch * r * r, c.num_feat);
  let body = feat;
  for (let i = 0; i < c.num_block; i++) body = g.scope(`body.${i}`, () => rrdb(g, body, `body.${i}`, c.num_feat, c.num_grow_ch));
  let y = g.add(feat, conv3x3(g, body, 'conv_body', c.num_feat, c.num_feat));
  for (const key of ['conv_up1', 'conv_up2']) y = leakyRelu(g, conv3x3(g, nearestUpsample(g, y, 2), key, c.num_feat, c.num_feat), SLOPE);
  return conv3x3(g, leakyRelu(g, conv3x3(g, y, 'conv_hr', c.num_feat, c.num_feat), SLOPE), 'conv_last', c.num_feat, c.num_out_ch);
}

/**
 * Input pixels of context per side, an upper bound: each 3x3 conv at 1/r of the input
 * resolution adds r pixels (conv_first, 15 per RRDB, conv_body), those after the upsampling
 * stages less than one each (counted as one), plus one for the sub-pixel position.
 */
function receptiveRadius(c: RRDBNetConfig): number {
  return unshuffleFactor(c) * (2 + 15 * c.num_block) + 4 + 1;
}

export const rrdbnet: ArchFamily<RRDBNetConfig> = {
  family: 'rrdbnet',
  validate,
  build,
  scale: (c) => c.scale,
  // The unshuffled x2 and x1 variants fold 2x2 and 4x4 input blocks into channels.
  inputMultiple: (c) => unshuffleFactor(c),
  isDerivedBuffer: () => false,
  receptiveRadius,
};
