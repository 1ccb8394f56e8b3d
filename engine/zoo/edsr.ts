import { float32Tensor } from '../io/tensor';
import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import type { ArchFamily } from './types';
import { positiveInt, positiveNumber } from './config-checks';
import { conv3x3 } from './layers';

/**
 * EDSR (Lim et al. 2017) in BasicSR's layout: option names follow BasicSR's `EDSR` arguments and
 * parameter names its state-dict keys, so official and BasicSR-trained checkpoints load as they are.
 */
export interface EDSRConfig {
  num_in_ch: 3;
  num_out_ch: 3;
  num_feat: number;
  num_block: number;
  /** 2, 3 or 4 (x4 is two conv + pixel-shuffle(2) stages). */
  upscale: 2 | 3 | 4;
  /** Residual branch scale in each block (0.1 for the 256-feature EDSR, 1 for the baseline). */
  res_scale: number;
  /** Inputs in [0,1] are scaled to [0, img_range] after mean subtraction. */
  img_range: number;
  rgb_mean: readonly [number, number, number];
}

/** DIV2K RGB mean, BasicSR's default. */
export const DIV2K_RGB_MEAN = [0.4488, 0.4371, 0.404] as const;

const DEFAULTS: EDSRConfig = {
  num_in_ch: 3,
  num_out_ch: 3,
  num_feat: 64,
  num_block: 16,
  upscale: 2,
  res_scale: 1,
  img_range: 255,
  rgb_mean: DIV2K_RGB_MEAN,
};

function validate(partial: Partial<EDSRConfig>): EDSRConfig {
  const c = { ...DEFAULTS, ...partial };
  for (const field of ['num_in_ch', 'num_out_ch'] as const) {
    if (c[field] !== 3) throw new RangeError(`edsr: ${field} must be 3 (RGB), got ${String(c[field])}`);
  }
  positiveInt('edsr', c.num_feat, 'num_feat');
  positiveInt('edsr', c.num_block, 'num_block');
  if (![2, 3, 4].includes(c.upscale)) throw new RangeError(`edsr: upscale must be 2, 3 or 4, got ${String(c.upscale)}`);
  positiveNumber('edsr', c.res_scale, 'res_scale');
  positiveNumber('edsr', c.img_range, 'img_range');
  if (!Array.isArray(c.rgb_mean) || c.rgb_mean.length !== 3 || !c.rgb_mean.every((m) => typeof m === 'number' && Number.isFinite(m))) {
    throw new TypeError(`edsr: rgb_mean must be three numbers, got ${JSON.stringify(c.rgb_mean)}`);
  }
  return { ...c, rgb_mean: [c.rgb_mean[0], c.rgb_mean[1], c.rgb_mean[2]] };
}

/** BasicSR's ResidualBlockNoBN: x + conv2(relu(conv1(x))) * res_scale. */
function residualBlock(g: Graph, x: Value, key: string, feat: number, resScale: number): Value {
  return g.scope(key, () => {
    const r = conv3x3(g, g.relu(conv3x3(g, x, `${key}.conv1`, feat, feat)), `${key}.conv2`, feat, feat);
    // Multiplying by exactly 1 is dropped: the output is bit-identical and the graph lighter.
    return g.add(x, resScale === 1 ? r : g.mul(r, g.scalar(resScale)));
  });
}

/** BasicSR's Upsample: log2(scale) stages of conv(feat -> 4 feat) + pixel shuffle 2, or one x3 stage. */
function upsample(g: Graph, x: Value, scale: 2 | 3 | 4, feat: number): Value {
  const stages = scale === 3 ? [3] : scale === 4 ? [2, 2] : [2];
  let y = x;
  stages.forEach((s, i) => {
    // Keys are upsample.0, upsample.2: the PixelShuffle modules take the odd indices.
    y = g.depthToSpace(conv3x3(g, y, `upsample.${2 * i}`, feat, s * s * feat), s);
  });
  return y;
}

function build(g: Graph, input: Value, c: EDSRConfig): Value {
  const mean = g.constant(float32Tensor([1, 3, 1, 1], Float32Array.from(c.rgb_mean)), 'rgb_mean');
  const range = g.scalar(c.img_range);
  const x = g.mul(g.sub(input, mean), range);
  const head = conv3x3(g, x, 'conv_first', c.num_in_ch, c.num_feat);
  let body = head;
  for (let i = 0; i < c.num_block; i++) body = residualBlock(g, body, `body.${i}`, c.num_feat, c.res_scale);
  const res = g.add(conv3x3(g, body, 'conv_after_body', c.num_feat, c.num_feat), head);
  const out = conv3x3(g, upsample(g, res, c.upscale, c.num_feat), 'conv_last', c.num_feat, c.num_out_ch);
  // x / img_range as a multiply by its reciprocal (within an ulp): onnxruntime folds a constant
  // Mul and Add after a Conv into the Conv's weights and bias, but not a Div.
  return g.add(g.mul(out, g.scalar(1 / c.img_range)), mean);
}

/**
 * Input pixels of context per side: 3x3 convs, each adds one pixel: conv_first, two per block,
 * conv_after_body, one per upsample stage (counted at input resolution, an upper bound), and
 * conv_last at output resolution (1/scale of a pixel); plus one for the output pixel's
 * sub-pixel position.
 */
function receptiveRadius(c: EDSRConfig): number {
  const stages = c.upscale === 4 ? 2 : 1;
  return 1 + 2 * c.num_block + 1 + stages + 1 + 1;
}

export const edsr: ArchFamily<EDSRConfig> = {
  family: 'edsr',
  validate,
  build,
  scale: (c) => c.upscale,
  inputMultiple: () => 1,
  // BasicSR keeps the mean as a plain attribute, not a buffer: EDSR checkpoints hold weights only.
  isDerivedBuffer: () => false,
  receptiveRadius,
};
