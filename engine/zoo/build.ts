import { matchStateDict } from '../io/checkpoint';
import type { HostTensor, StateDict } from '../io/tensor';
import { Graph } from '../graph/graph';
import { toOnnx } from '../graph/onnx';
import type { Shape, Value } from '../graph/value';
import { resolveArch, type ModelConfig } from './registry';

export interface InputSize {
  /** Default 1. */
  readonly batch?: number;
  readonly height: number;
  readonly width: number;
}

export interface BuiltModel {
  readonly graph: Graph;
  /** `input`: [N, 3, H, W] in [0, 1]. */
  readonly input: Value;
  /** `output`: [N, 3, H*scale, W*scale]. */
  readonly output: Value;
}

/** Builds the model's forward graph for one input size (graphs are static-shape). */
export function buildModel(config: ModelConfig, size: InputSize): BuiltModel {
  const arch = resolveArch(config);
  const batch = size.batch ?? 1;
  for (const [name, v] of [
    ['batch', batch],
    ['height', size.height],
    ['width', size.width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`buildModel: ${name} must be a positive integer, got ${v}`);
  }
  const m = arch.inputMultiple;
  if (size.height % m !== 0 || size.width % m !== 0) {
    throw new RangeError(
      `buildModel: ${arch.config.family} needs H and W multiples of ${m}, got ${size.height}x${size.width} (pad the input)`,
    );
  }
  const graph = new Graph(arch.config.family);
  const input = graph.input('input', [batch, 3, size.height, size.width]);
  const output = graph.output(arch.build(graph, input), 'output');
  return { graph, input, output };
}

/** The smallest graph that declares every parameter: parameter shapes do not depend on input size. */
function smallestModel(config: ModelConfig): BuiltModel {
  const m = resolveArch(config).inputMultiple;
  return buildModel(config, { height: m, width: m });
}

/** Every parameter the model declares (what a checkpoint must supply), by checkpoint key. */
export function modelParamShapes(config: ModelConfig): Map<string, Shape> {
  const { graph } = smallestModel(config);
  return new Map([...graph.params].map(([key, p]) => [key, p.value.shape]));
}

/**
 * Picks the model's weights out of a checkpoint's state dict, strictly: a missing key, an
 * unexpected key or a shape mismatch throws an error naming every such key. Buffers the family
 * recomputes for the actual input size (SwinIR's `attn_mask`, `relative_position_index`) are
 * accepted and dropped.
 */
export function bindWeights(config: ModelConfig, sd: StateDict): StateDict {
  const arch = resolveArch(config);
  const expected = modelParamShapes(config);
  const tensors = matchStateDict(expected, sd, { ignore: (key) => arch.isDerivedBuffer(key) });
  const keys = [...expected.keys()];
  const bound: StateDict = new Map();
  tensors.forEach((t, i) => {
    const key = keys[i]!;
    if (t.dtype !== 'float32') throw new TypeError(`weights for ${key} are ${t.sourceDType ?? t.dtype}; a float tensor is expected`);
    bound.set(key, t);
  });
  return bound;
}

export interface ExportOnnxOptions {
  /** Input size the static graph is built for (the upscaler's tile); a multiple of the family's window. */
  readonly height: number;
  readonly width: number;
  readonly batch?: number;
  /** String fields stored in the ONNX metadata (the model card). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** ONNX bytes of the model with its weights as initializers, for one input size. */
export function exportOnnx(config: ModelConfig, weights: ReadonlyMap<string, HostTensor>, opts: ExportOnnxOptions): Uint8Array {
  const { graph } = buildModel(config, opts);
  return toOnnx(graph, { params: 'initializers', weights, producer: 'minisr', ...(opts.metadata ? { metadata: opts.metadata } : {}) });
}
