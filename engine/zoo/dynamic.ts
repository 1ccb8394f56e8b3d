import onnxProto from 'onnx-proto';
import { toOnnx } from '../graph/onnx';
import type { Graph } from '../graph/graph';
import type { HostTensor } from '../io/tensor';
import { buildModel } from './build';
import { resolveArch, type ModelConfig } from './registry';

const { onnx } = onnxProto;

/**
 * Our graphs are built for a static input size. Some (EDSR: convolutions, element-wise ops and
 * pixel shuffle only) come out identical at every size apart from the input/output shapes; such a
 * graph can be exported once with symbolic N/H/W, which onnxruntime accepts. Graphs that embed
 * size-dependent constants (SwinIR's window reshapes and masks) cannot, and must be built per tile.
 */

const INPUT = 'input';
const OUTPUT = 'output';

/** ModelProto bytes with the input's and output's dims cleared: what is left is the size-independent structure. */
function structure(bytes: Uint8Array): Buffer {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph as onnxProto.onnx.GraphProto;
  for (const v of [...g.input, ...g.output]) {
    if (v.name === INPUT || v.name === OUTPUT) v.type!.tensorType!.shape!.dim = [];
  }
  return Buffer.from(onnx.ModelProto.encode(m).finish());
}

/** Whether the graph `build` makes is the same at every input size (so a symbolic-size export is exact). */
export function isGraphSizeIndependent(build: GraphAtSize, multiple: number): boolean {
  const probe = (batch: number, h: number, w: number) =>
    structure(toOnnx(build({ batch, height: h * multiple, width: w * multiple }), { params: 'inputs' }));
  return probe(1, 2, 3).equals(probe(2, 3, 2));
}

/** Builds a graph (input `input`, output `output`) for one input size. */
export type GraphAtSize = (size: { batch: number; height: number; width: number }) => Graph;

/**
 * ONNX bytes of the graph `build` makes, with symbolic input dims [batch, 3, height, width] (output
 * [batch, 3, out_height, out_width]). Throws when the graph depends on the input size.
 */
export function exportSymbolicOnnx(
  build: GraphAtSize,
  multiple: number,
  weights: ReadonlyMap<string, HostTensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  if (!isGraphSizeIndependent(build, multiple)) {
    throw new RangeError('this graph depends on the input size; export it for a fixed tile size instead');
  }
  const graph = build({ batch: 1, height: multiple, width: multiple });
  const model = onnx.ModelProto.decode(
    toOnnx(graph, { params: 'initializers', weights, producer: 'minisr', ...(metadata ? { metadata } : {}) }),
  );
  const symbolic = (name: string, dims: readonly string[]) => {
    const g = model.graph as onnxProto.onnx.GraphProto;
    const v = [...g.input, ...g.output].find((x) => x.name === name)!;
    v.type!.tensorType!.shape!.dim = dims.map((d, i) => (i === 1 ? { dimValue: 3 } : { dimParam: d }));
  };
  symbolic(INPUT, ['batch', 'channels', 'height', 'width']);
  symbolic(OUTPUT, ['batch', 'channels', 'out_height', 'out_width']);
  return onnx.ModelProto.encode(model).finish();
}

const zooGraph =
  (config: ModelConfig): GraphAtSize =>
  (size) =>
    buildModel(config, size).graph;

/** Whether the config's graph is the same at every input size (so a symbolic-size export is exact). */
export function isSizeIndependent(config: ModelConfig): boolean {
  return isGraphSizeIndependent(zooGraph(config), resolveArch(config).inputMultiple);
}

/**
 * ONNX bytes whose input is [batch, 3, height, width] with symbolic dims (output
 * [batch, 3, out_height, out_width]). Throws for families whose graph depends on the input size.
 */
export function exportDynamicOnnx(
  config: ModelConfig,
  weights: ReadonlyMap<string, HostTensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  if (!isSizeIndependent(config)) {
    throw new RangeError(`${config.family} graphs depend on the input size; export them for a fixed tile size instead`);
  }
  return exportSymbolicOnnx(zooGraph(config), resolveArch(config).inputMultiple, weights, metadata);
}
