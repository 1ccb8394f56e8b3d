import onnxProto from 'onnx-proto';
import { numel, type HostTensor } from '../io/tensor';
import type { Graph } from './graph';
import { opDef, onnxElemType, elemTypeFromOnnx, type AttrValue } from './ops';
import { shapeString, type Value } from './value';

const { onnx } = onnxProto;

export const OPSET = 17;

export interface ExportOptions {
  /**
   * 'initializers' stores parameter data in the model (inference); 'inputs' makes every
   * parameter a graph input fed at each run (training: the optimizer updates them on the host).
   */
  readonly params: 'initializers' | 'inputs';
  /** Parameter data by checkpoint key; required for 'initializers'. */
  readonly weights?: ReadonlyMap<string, HostTensor>;
  readonly producer?: string;
  /** Free-form metadata (model card fields) stored in the model's metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
}

function tensorProto(name: string, t: HostTensor): onnxProto.onnx.ITensorProto {
  const d = t.data;
  return {
    name,
    dims: [...t.shape],
    dataType: onnxElemType(t.dtype),
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: onnxElemType(v.dtype), shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function attribute(name: string, value: AttrValue, type: string): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (type) {
    case 'int':
      return { name, type: T.INT, i: value as number };
    case 'float':
      return { name, type: T.FLOAT, f: value as number };
    case 'ints':
      return { name, type: T.INTS, ints: [...(value as readonly number[])] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...(value as readonly number[])] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(value as string) };
    default:
      throw new TypeError(`attribute ${name}: unknown type ${type}`);
  }
}

/** Serialises a graph to ONNX ModelProto bytes (opset 17, standard domain only). */
export function toOnnx(graph: Graph, opts: ExportOptions): Uint8Array {
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const paramInputs: onnxProto.onnx.IValueInfoProto[] = [];
  for (const [key, p] of graph.params) {
    if (opts.params === 'inputs') {
      paramInputs.push(valueInfo(p.value));
      continue;
    }
    const w = opts.weights?.get(key);
    if (!w) throw new Error(`no weights for parameter ${key}`);
    if (numel(w.shape) !== numel(p.value.shape) || w.dtype !== 'float32') {
      throw new RangeError(`weights for ${key}: ${w.dtype} ${shapeString(w.shape)}, graph expects float32 ${shapeString(p.value.shape)}`);
    }
    initializers.push(tensorProto(key, { ...w, shape: p.value.shape }));
  }
  for (const c of graph.constants.values()) initializers.push(tensorProto(c.name, c.data!));

  const nodes = graph.nodes.map((n) => {
    const def = opDef(n.op);
    return {
      name: n.name,
      opType: n.op,
      input: n.inputs.map((v) => v?.name ?? ''),
      output: n.outputs.map((v) => v.name),
      attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v, def.attrs[k]!)),
    };
  });

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: opts.producer ?? 'minisr',
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: [...graph.inputs.map(valueInfo), ...paramInputs],
      output: graph.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface OnnxSummary {
  readonly opset: number;
  readonly inputs: { name: string; shape: (number | string)[]; dtype: string }[];
  readonly outputs: { name: string; shape: (number | string)[]; dtype: string }[];
  readonly opCounts: Record<string, number>;
  readonly initializerCount: number;
  /** Elements in float initializers: parameters plus constant tables. */
  readonly floatInitializerElements: number;
  readonly metadata: Record<string, string>;
}

function dims(v: onnxProto.onnx.IValueInfoProto): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
}

/**
 * Reads an ONNX file's interface and statistics without running it. Protobuf decoding only:
 * nothing in the file is executed. Corrupt bytes give a clear error.
 */
export function summarizeOnnx(bytes: Uint8Array): OnnxSummary {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`not a valid ONNX model: ${(e as Error).message}`, { cause: e });
  }
  const g = model.graph as onnxProto.onnx.GraphProto | null;
  if (!g) throw new Error('not a valid ONNX model: no graph');
  const initNames = new Set(g.initializer.map((t) => t.name));
  const opCounts: Record<string, number> = {};
  for (const n of g.node) opCounts[n.opType ?? ''] = (opCounts[n.opType ?? ''] ?? 0) + 1;
  const elem = (v: onnxProto.onnx.IValueInfoProto) => {
    try {
      return elemTypeFromOnnx(v.type?.tensorType?.elemType ?? 0);
    } catch {
      return `onnx:${v.type?.tensorType?.elemType ?? '?'}`;
    }
  };
  let floatInitializerElements = 0;
  for (const t of g.initializer) {
    if (t.dataType === onnx.TensorProto.DataType.FLOAT && (t.dims?.length ?? 0) > 0)
      floatInitializerElements += (t.dims as number[]).reduce<number>((a, b) => a * Number(b), 1);
  }
  const opset = model.opsetImport.find((o) => !o.domain)?.version;
  return {
    opset: Number(opset ?? 0),
    inputs: g.input.filter((v) => !initNames.has(v.name)).map((v) => ({ name: v.name ?? '', shape: dims(v), dtype: elem(v) })),
    outputs: g.output.map((v) => ({ name: v.name ?? '', shape: dims(v), dtype: elem(v) })),
    opCounts,
    initializerCount: g.initializer.length,
    floatInitializerElements,
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])),
  };
}
