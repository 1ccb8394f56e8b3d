import { float32Tensor } from '../io/tensor';
import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import type { ArchFamily } from './types';
import { Layouts, linear, windowAttention } from './swinir-attention';
import { positiveInt, positiveNumber } from './config-checks';

/**
 * SwinIR (Liang et al. 2021) following the official `models/network_swinir.py`: option names are
 * the constructor's arguments and parameter names its state-dict keys, so official checkpoints load
 * as they are. Patch size 1, no absolute position embedding, qkv bias, LayerNorm after the patch
 * embedding; the graph is built for the actual input size (a multiple of the window).
 */
export interface SwinIRConfig {
  in_chans: 1 | 3;
  embed_dim: number;
  /** Swin blocks per residual group (RSTB); one group per entry. */
  depths: readonly number[];
  /** Attention heads per group; must divide embed_dim. */
  num_heads: readonly number[];
  window_size: number;
  mlp_ratio: number;
  upscale: 2 | 3 | 4;
  /** Inputs in [0,1] are scaled to [0, img_range] after mean subtraction. */
  img_range: number;
  /** 'pixelshuffledirect': one conv + pixel shuffle (lightweight); 'pixelshuffle': conv+LeakyReLU, Upsample, conv_last (classical). */
  upsampler: 'pixelshuffledirect' | 'pixelshuffle';
  resi_connection: '1conv';
}

/** Channels of the classical upsampler (`num_feat` in the official code). */
const NUM_FEAT = 64;
const RGB_MEAN = [0.4488, 0.4371, 0.404] as const;
const LN_EPS = 1e-5;

const DEFAULTS: SwinIRConfig = {
  in_chans: 3,
  embed_dim: 60,
  depths: [6, 6, 6, 6],
  num_heads: [6, 6, 6, 6],
  window_size: 8,
  mlp_ratio: 2,
  upscale: 2,
  img_range: 1,
  upsampler: 'pixelshuffledirect',
  resi_connection: '1conv',
};

function validate(partial: Partial<SwinIRConfig>): SwinIRConfig {
  const c = { ...DEFAULTS, ...partial };
  if (c.in_chans !== 1 && c.in_chans !== 3) throw new RangeError(`swinir: in_chans must be 1 or 3, got ${String(c.in_chans)}`);
  positiveInt('swinir', c.embed_dim, 'embed_dim');
  if (!Array.isArray(c.depths) || c.depths.length === 0) throw new TypeError('swinir: depths must be a non-empty list');
  if (!Array.isArray(c.num_heads) || c.num_heads.length !== c.depths.length) {
    throw new TypeError(`swinir: num_heads must list one head count per group (${c.depths.length}), got ${JSON.stringify(c.num_heads)}`);
  }
  c.depths.forEach((d, i) => positiveInt('swinir', d, `depths[${i}]`));
  c.num_heads.forEach((h, i) => {
    positiveInt('swinir', h, `num_heads[${i}]`);
    if (c.embed_dim % h !== 0) throw new RangeError(`swinir: num_heads[${i}] = ${h} does not divide embed_dim ${c.embed_dim}`);
  });
  positiveInt('swinir', c.window_size, 'window_size');
  if (c.window_size < 2) throw new RangeError('swinir: window_size must be at least 2 (shifted blocks move by window_size / 2)');
  positiveNumber('swinir', c.mlp_ratio, 'mlp_ratio');
  if (Math.floor(c.embed_dim * c.mlp_ratio) < 1) throw new RangeError('swinir: embed_dim * mlp_ratio must be at least 1');
  if (![2, 3, 4].includes(c.upscale)) throw new RangeError(`swinir: upscale must be 2, 3 or 4, got ${String(c.upscale)}`);
  positiveNumber('swinir', c.img_range, 'img_range');
  if (c.upsampler !== 'pixelshuffledirect' && c.upsampler !== 'pixelshuffle') {
    throw new RangeError(`swinir: upsampler must be 'pixelshuffledirect' or 'pixelshuffle', got ${String(c.upsampler)}`);
  }
  if (c.resi_connection !== '1conv') throw new RangeError(`swinir: resi_connection must be '1conv', got ${String(c.resi_connection)}`);
  return { ...c, depths: [...c.depths], num_heads: [...c.num_heads] };
}

// ---- building blocks ----

function conv3x3(g: Graph, x: Value, key: string, cin: number, cout: number): Value {
  return g.conv(x, g.param(`${key}.weight`, [cout, cin, 3, 3]), g.param(`${key}.bias`, [cout]));
}

function layerNorm(g: Graph, x: Value, key: string, dim: number): Value {
  return g.layerNorm(x, g.param(`${key}.weight`, [dim]), g.param(`${key}.bias`, [dim]), LN_EPS);
}

/** Tokens [B, L, C] in the window order of `shift` (0: plain windows). */
interface Tokens {
  readonly value: Value;
  readonly shift: number;
}

/** NCHW feature map -> tokens [B, L, C] in window order 0, with one Transpose. */
function toWindowTokens(g: Graph, x: Value, lay: Layouts): Tokens {
  const [b, c] = x.shape as [number, number];
  const { height: h, width: w, window: ws } = lay.grid;
  const six = g.reshape(x, [b, c, h / ws, ws, w / ws, ws]);
  const t = g.transpose(six, [0, 2, 4, 3, 5, 1]); // B, nH, nW, ws, ws, C
  return { value: g.reshape(t, [b, lay.tokens, c]), shift: 0 };
}

/** Tokens -> NCHW feature map. */
function toFeatureMap(g: Graph, t: Tokens, lay: Layouts): Value {
  const x = lay.relayout(t.value, t.shift, 0);
  const [b, , c] = x.shape as [number, number, number];
  const { height: h, width: w, window: ws } = lay.grid;
  const six = g.reshape(x, [b, h / ws, w / ws, ws, ws, c]);
  return g.reshape(g.transpose(six, [0, 5, 1, 3, 2, 4]), [b, c, h, w]);
}

/** GELU as torch.onnx exports it, x * (erf(x / sqrt 2) + 1) * 0.5: the pattern onnxruntime fuses into one kernel. */
function gelu(g: Graph, x: Value): Value {
  const e = g.op1('Erf', [g.div(x, g.scalar(Math.SQRT2))]);
  return g.mul(g.mul(x, g.add(e, g.scalar(1))), g.scalar(0.5));
}

/** One Swin block: x + attn(norm1(x)); x + mlp(norm2(x)), with the tokens moved to its window order first. */
function swinBlock(g: Graph, t: Tokens, key: string, c: SwinIRConfig, heads: number, shift: number, lay: Layouts): Tokens {
  return g.scope(key, () => {
    const dim = c.embed_dim;
    const x = lay.relayout(t.value, t.shift, shift);
    const a = g.add(x, windowAttention(g, layerNorm(g, x, `${key}.norm1`, dim), `${key}.attn`, dim, heads, shift, lay));
    const hidden = Math.floor(dim * c.mlp_ratio);
    const m = linear(
      g,
      gelu(g, linear(g, layerNorm(g, a, `${key}.norm2`, dim), `${key}.mlp.fc1`, dim, hidden)),
      `${key}.mlp.fc2`,
      hidden,
      dim,
    );
    return { value: g.add(a, m), shift };
  });
}

/** Residual Swin Transformer Block: conv(blocks(x)) + x, the conv on the feature map. */
function rstb(g: Graph, t: Tokens, i: number, c: SwinIRConfig, lay: Layouts): Tokens {
  const key = `layers.${i}`;
  const shiftSize = Math.floor(c.window_size / 2);
  let y = t;
  for (let j = 0; j < c.depths[i]!; j++) {
    y = swinBlock(g, y, `${key}.residual_group.blocks.${j}`, c, c.num_heads[i]!, j % 2 === 0 ? 0 : shiftSize, lay);
  }
  const conv = g.scope(key, () => conv3x3(g, toFeatureMap(g, y, lay), `${key}.conv`, c.embed_dim, c.embed_dim));
  const back = toWindowTokens(g, conv, lay);
  return { value: g.add(back.value, lay.relayout(t.value, t.shift, back.shift)), shift: back.shift };
}

function upsample(g: Graph, x: Value, c: SwinIRConfig): Value {
  const out = c.in_chans;
  if (c.upsampler === 'pixelshuffledirect') {
    return g.depthToSpace(conv3x3(g, x, 'upsample.0', c.embed_dim, c.upscale * c.upscale * out), c.upscale);
  }
  let y = g.op1('LeakyRelu', [conv3x3(g, x, 'conv_before_upsample.0', c.embed_dim, NUM_FEAT)], { alpha: 0.01 });
  const stages = c.upscale === 3 ? [3] : c.upscale === 4 ? [2, 2] : [2];
  stages.forEach((s, i) => {
    // Keys upsample.0, upsample.2: the PixelShuffle modules take the odd indices.
    y = g.depthToSpace(conv3x3(g, y, `upsample.${2 * i}`, NUM_FEAT, s * s * NUM_FEAT), s);
  });
  return conv3x3(g, y, 'conv_last', NUM_FEAT, out);
}

function build(g: Graph, input: Value, c: SwinIRConfig): Value {
  const [, ch, h, w] = input.shape as [number, number, number, number];
  if (input.shape.length !== 4 || ch !== c.in_chans) {
    throw new RangeError(`swinir: input must be [N, ${c.in_chans}, H, W], got [${input.shape.join(', ')}]`);
  }
  if (h % c.window_size !== 0 || w % c.window_size !== 0) {
    throw new RangeError(`swinir: input ${h}x${w} must be a multiple of window_size ${c.window_size} (pad it first)`);
  }
  const lay = new Layouts(g, { height: h, width: w, window: c.window_size });
  const meanData = c.in_chans === 3 ? Float32Array.from(RGB_MEAN) : new Float32Array(1);
  const mean = g.constant(float32Tensor([1, c.in_chans, 1, 1], meanData), 'rgb_mean');
  const range = g.scalar(c.img_range);
  const x = c.img_range === 1 ? g.sub(input, mean) : g.mul(g.sub(input, mean), range);

  const head = conv3x3(g, x, 'conv_first', c.in_chans, c.embed_dim);
  const embedded = toWindowTokens(g, head, lay);
  let t: Tokens = { value: layerNorm(g, embedded.value, 'patch_embed.norm', c.embed_dim), shift: embedded.shift };
  for (let i = 0; i < c.depths.length; i++) t = rstb(g, t, i, c, lay);
  t = { value: layerNorm(g, t.value, 'norm', c.embed_dim), shift: t.shift };
  const body = conv3x3(g, toFeatureMap(g, t, lay), 'conv_after_body', c.embed_dim, c.embed_dim);
  const y = upsample(g, g.add(body, head), c);
  return g.add(c.img_range === 1 ? y : g.div(y, range), mean);
}

export const swinir: ArchFamily<SwinIRConfig> = {
  family: 'swinir',
  validate,
  build,
  scale: (c) => c.upscale,
  inputMultiple: (c) => c.window_size,
  // Official checkpoints carry these buffers; we rebuild both for the actual input size.
  isDerivedBuffer: (key) => key.endsWith('.attn_mask') || key.endsWith('.relative_position_index'),
};
