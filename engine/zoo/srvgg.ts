import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import type { ArchFamily } from './types';
import { positiveInt } from './config-checks';
import { conv3x3, nearestUpsample, prelu } from './layers';

/**
 * SRVGGNetCompact (Real-ESRGAN's compact models) in its own layout: `body.N` alternates 3x3
 * convs and PReLUs, the last conv makes scale^2 x 3 channels for a pixel shuffle, and the
 * nearest-upsampled input is added, so the network learns only the residual.
 */
export interface SRVGGConfig {
  num_in_ch: 3;
  num_out_ch: 3;
  num_feat: number;
  /** Convs between the first and the last. */
  num_conv: number;
  upscale: number;
  /** Only PReLU: the released models all use it, and its slopes are what mark the layout. */
  act_type: 'prelu';
}

const DEFAULTS: SRVGGConfig = { num_in_ch: 3, num_out_ch: 3, num_feat: 64, num_conv: 16, upscale: 4, act_type: 'prelu' };

function validate(partial: Partial<SRVGGConfig>): SRVGGConfig {
  const c = { ...DEFAULTS, ...partial };
  for (const field of ['num_in_ch', 'num_out_ch'] as const) {
    if (c[field] !== 3) throw new RangeError(`srvgg: ${field} must be 3 (RGB), got ${String(c[field])}`);
  }
  positiveInt('srvgg', c.num_feat, 'num_feat');
  if (!Number.isInteger(c.num_conv) || c.num_conv < 0)
    throw new RangeError(`srvgg: num_conv must be a non-negative integer, got ${c.num_conv}`);
  positiveInt('srvgg', c.upscale, 'upscale');
  if (c.act_type !== 'prelu') throw new RangeError(`srvgg: act_type must be 'prelu', got ${JSON.stringify(c.act_type)}`);
  return c;
}

function build(g: Graph, input: Value, c: SRVGGConfig): Value {
  let y = prelu(g, conv3x3(g, input, 'body.0', c.num_in_ch, c.num_feat), 'body.1', c.num_feat);
  for (let i = 1; i <= c.num_conv; i++)
    y = prelu(g, conv3x3(g, y, `body.${2 * i}`, c.num_feat, c.num_feat), `body.${2 * i + 1}`, c.num_feat);
  const last = conv3x3(g, y, `body.${2 * c.num_conv + 2}`, c.num_feat, c.num_out_ch * c.upscale * c.upscale);
  return g.add(g.depthToSpace(last, c.upscale), nearestUpsample(g, input, c.upscale));
}

export const srvgg: ArchFamily<SRVGGConfig> = {
  family: 'srvgg',
  validate,
  build,
  scale: (c) => c.upscale,
  inputMultiple: () => 1,
  isDerivedBuffer: () => false,
  // Every conv is at input resolution; one more pixel for the sub-pixel position.
  receptiveRadius: (c) => c.num_conv + 2 + 1,
};
