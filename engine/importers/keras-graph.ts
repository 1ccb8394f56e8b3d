import { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import { float32Tensor, type HostTensor } from '../io/tensor';
import type { KerasLayer, KerasModel } from './keras-model';
import { subpixelConvs, subpixelGeometry, subpixelWeights, type SubpixelConv } from './keras-subpixel';

/**
 * A Keras layers model as one of our NCHW graphs. Keras computes NHWC; every layer here is
 * pointwise over positions or a convolution, so the same maths runs in NCHW with channel axes and
 * kernels re-laid (HWIO -> OIHW). TF's depth_to_space orders channels as ONNX DepthToSpace's DCR
 * mode does, so PixelShuffle is that op, and nearest UpSampling2D is DCR of s*s channel copies.
 */

/** Layer types we build (UpscalerJS's ESRGAN/RDN models use these; MultiplyBeta, PixelShuffle{N}x are its custom layers). */
const KNOWN = new Set(['InputLayer', 'Conv2D', 'Activation', 'Concatenate', 'Add', 'UpSampling2D', 'MultiplyBeta']);
const PIXEL_SHUFFLE = /^PixelShuffle(\d+)x$/;

/** UpscalerJS's MultiplyBeta multiplies by this constant whatever its config says. */
const UPSCALERJS_BETA = 0.2;

/** Throws naming every layer type we cannot build (so one error lists them all). */
export function checkLayerTypes(model: KerasModel): void {
  const unknown = new Set(model.layers.map((l) => l.className).filter((c) => !KNOWN.has(c) && !PIXEL_SHUFFLE.test(c)));
  if (unknown.size) {
    throw new Error(
      `unsupported Keras layer type${unknown.size > 1 ? 's' : ''}: ${[...unknown].join(', ')} (supported: ${[...KNOWN].join(', ')}, PixelShuffle{N}x)`,
    );
  }
}

function pair(layer: KerasLayer, key: string, dflt: readonly [number, number]): [number, number] {
  const v = layer.config[key] ?? dflt;
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`layer ${layer.name}: ${key} must be two positive integers, got ${JSON.stringify(v)}`);
  }
  return [p[0] as number, p[1] as number];
}

function configValue(layer: KerasLayer, key: string, allowed: readonly unknown[], dflt: unknown): unknown {
  const v = layer.config[key] ?? dflt;
  if (!allowed.includes(v)) throw new Error(`layer ${layer.name} (${layer.className}): ${key} ${JSON.stringify(v)} is not supported`);
  return v;
}

function weight(model: KerasModel, layer: KerasLayer, kind: 'kernel' | 'bias'): HostTensor {
  const exact = model.weights.get(`${layer.name}/${kind}`);
  if (exact) return exact;
  const found = [...model.weights.keys()].filter((k) => k.endsWith(`/${layer.name}/${kind}`));
  if (found.length !== 1) throw new Error(`layer ${layer.name}: no ${kind} weight (looked for ${layer.name}/${kind} in the manifest)`);
  return model.weights.get(found[0]!)!;
}

/** Conv weights in ONNX layout, keyed by our parameter names (`<layer>.weight`, `<layer>.bias`). */
export function kerasOnnxWeights(model: KerasModel): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const fused = subpixelConvs(model);
  for (const layer of model.layers) {
    if (layer.className !== 'Conv2D') continue;
    const k = weight(model, layer, 'kernel');
    const [kh, kw, cin, cout] = k.shape as [number, number, number, number];
    if (k.shape.length !== 4) throw new Error(`layer ${layer.name}: kernel must be 4-D, got [${k.shape.join(', ')}]`);
    const src = k.data as Float32Array;
    const dst = new Float32Array(src.length);
    // HWIO -> OIHW.
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++) dst[((o * cin + i) * kh + y) * kw + x] = src[((y * kw + x) * cin + i) * cout + o]!;
    let w = float32Tensor([cout, cin, kh, kw], dst);
    let b: HostTensor | undefined;
    if (layer.config.use_bias !== false) {
      b = weight(model, layer, 'bias');
      if (b.shape.length !== 1 || b.shape[0] !== cout)
        throw new Error(`layer ${layer.name}: bias must be [${cout}], got [${b.shape.join(', ')}]`);
    }
    const sub = fused.get(layer.name);
    if (sub) ({ weight: w, bias: b } = subpixelWeights(w, b, sub.scale));
    out.set(`${layer.name}.weight`, w);
    if (b) out.set(`${layer.name}.bias`, b);
  }
  return out;
}

function activation(g: Graph, layer: KerasLayer, x: Value): Value {
  const a = layer.config.activation ?? 'linear';
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return g.relu(x);
    case 'sigmoid':
      return g.op1('Sigmoid', [x]);
    case 'tanh':
      return g.op1('Tanh', [x]);
    default:
      throw new Error(`layer ${layer.name}: activation ${JSON.stringify(a)} is not supported (linear, relu, sigmoid, tanh)`);
  }
}

/** Keras 'same' padding for stride 1: the extra pixel of an even kernel goes after. */
function samePads(k: readonly [number, number], d: readonly [number, number]): number[] {
  const total = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
  return [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2), Math.ceil(total[0]! / 2), Math.ceil(total[1]! / 2)];
}

function conv2d(g: Graph, model: KerasModel, layer: KerasLayer, x: Value, sub?: SubpixelConv): Value {
  configValue(layer, 'data_format', ['channels_last'], 'channels_last');
  configValue(layer, 'groups', [1], 1);
  if (pair(layer, 'strides', [1, 1]).some((s) => s !== 1)) throw new Error(`layer ${layer.name}: strides other than 1 are not supported`);
  const padding = configValue(layer, 'padding', ['same', 'valid'], 'valid');
  const [kh, kw, cin, cout] = weight(model, layer, 'kernel').shape as [number, number, number, number];
  const dil = pair(layer, 'dilation_rate', [1, 1]);
  if (sub) {
    // Upsample + conv as a low-resolution conv to s*s*cout channels and a pixel shuffle (keras-subpixel.ts).
    const [gy, gx] = [subpixelGeometry(kh, sub.scale), subpixelGeometry(kw, sub.scale)];
    const n = sub.scale * sub.scale * cout;
    const w = g.param(`${layer.name}.weight`, [n, cin, gy.size, gx.size]);
    const b = layer.config.use_bias === false ? undefined : g.param(`${layer.name}.bias`, [n]);
    const y = g.op1('Conv', b ? [x, w, b] : [x, w], {
      kernel_shape: [gy.size, gx.size],
      pads: [gy.pads[0], gx.pads[0], gy.pads[1], gx.pads[1]],
    });
    return g.op1('DepthToSpace', [activation(g, layer, y)], { blocksize: sub.scale, mode: 'DCR' });
  }
  const w = g.param(`${layer.name}.weight`, [cout, cin, kh, kw]);
  const b = layer.config.use_bias === false ? undefined : g.param(`${layer.name}.bias`, [cout]);
  const y = g.op1('Conv', b ? [x, w, b] : [x, w], {
    kernel_shape: [kh, kw],
    pads: padding === 'same' ? samePads([kh, kw], dil) : [0, 0, 0, 0],
    dilations: dil,
  });
  return activation(g, layer, y);
}

/** Nearest-neighbour upsampling by s: s*s copies of each channel, placed by DepthToSpace (DCR). */
function upsampleNearest(g: Graph, layer: KerasLayer, x: Value): Value {
  configValue(layer, 'data_format', ['channels_last'], 'channels_last');
  configValue(layer, 'interpolation', ['nearest'], 'nearest');
  const [sh, sw] = pair(layer, 'size', [2, 2]);
  if (sh !== sw) throw new Error(`layer ${layer.name}: UpSampling2D size ${sh}x${sw} is not supported (equal factors only)`);
  if (sh === 1) return x;
  return g.op1('DepthToSpace', [g.concat(Array<Value>(sh * sh).fill(x), 1)], { blocksize: sh, mode: 'DCR' });
}

/** Keras axis of a 4-D NHWC tensor -> our NCHW axis. */
function nchwAxis(layer: KerasLayer): number {
  const a = layer.config.axis ?? -1;
  const map: Record<string, number> = { '-1': 1, '3': 1, '1': 2, '2': 3, '-3': 2, '-2': 3 };
  const axis = map[String(a)];
  if (axis === undefined) throw new Error(`layer ${layer.name}: Concatenate axis ${JSON.stringify(a)} is not supported`);
  return axis;
}

function layerOp(g: Graph, model: KerasModel, layer: KerasLayer, xs: Value[], sub?: SubpixelConv): Value {
  const one = () => {
    if (xs.length !== 1) throw new Error(`layer ${layer.name}: ${layer.className} takes one input, got ${xs.length}`);
    return xs[0]!;
  };
  const shuffle = PIXEL_SHUFFLE.exec(layer.className);
  if (shuffle) return g.op1('DepthToSpace', [one()], { blocksize: Number(shuffle[1]), mode: 'DCR' });
  switch (layer.className) {
    case 'Conv2D':
      return conv2d(g, model, layer, one(), sub);
    case 'Activation':
      return activation(g, layer, one());
    case 'Concatenate':
      return g.concat(xs, nchwAxis(layer));
    case 'Add':
      return xs.reduce((a, b) => g.add(a, b));
    case 'UpSampling2D':
      return upsampleNearest(g, layer, one());
    case 'MultiplyBeta':
      return g.mul(one(), g.scalar(UPSCALERJS_BETA));
    default:
      throw new Error(`unsupported Keras layer type: ${layer.className} (layer ${layer.name})`);
  }
}

export interface KerasGraphOptions {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  /** The model's own value range: 255 scales our [0, 1] input up and its output back down inside the graph. */
  readonly range: 1 | 255;
}

/** Our graph of the model for one input size: input `input`, output `output`, both NCHW RGB in [0, 1]. */
export function buildKerasGraph(model: KerasModel, o: KerasGraphOptions): Graph {
  checkLayerTypes(model);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`expected one input and one output, found inputs ${model.inputs.join(', ')} and outputs ${model.outputs.join(', ')}`);
  }
  const g = new Graph('keras');
  const input = g.input('input', [o.batch, 3, o.height, o.width]);
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const values = new Map<string, Value>();
  values.set(model.inputs[0]!, o.range === 1 ? input : g.mul(input, g.scalar(o.range)));
  const visiting = new Set<string>();
  const fused = subpixelConvs(model);
  const valueOf = (name: string): Value => {
    const done = values.get(name);
    if (done) return done;
    const layer = byName.get(name);
    if (!layer) throw new Error(`layer ${name} is referenced but not defined`);
    if (layer.className === 'InputLayer') throw new Error(`input layer ${name} is not the model's input`);
    if (visiting.has(name)) throw new Error(`layer ${name} depends on itself`);
    visiting.add(name);
    const sub = fused.get(name);
    // A fused conv reads what its upsampling layer would have read; that layer is never built.
    const v = g.scope(name, () => layerOp(g, model, layer, (sub ? sub.upsample.inbound : layer.inbound).map(valueOf), sub));
    values.set(name, v);
    return v;
  };
  let out = valueOf(model.outputs[0]!);
  if (o.range !== 1) out = g.mul(out, g.scalar(1 / o.range));
  g.output(out, 'output');
  return g;
}
