import { readFile, stat } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { withImportMetadata } from './metadata';
import { measureMargin, openProbe, probeScale } from './probe';
import type { ImportedGraph } from './types';

const { onnx } = onnxProto;

/**
 * A foreign ONNX upscaler (chaiNNer's and other exports: one NCHW float image input, one output)
 * wrapped into our convention: input `input` and output `output` in [0, 1] (a 0-255 model gets
 * the scaling as two Mul nodes around it). What the file does not say is measured by running it
 * on the CPU: scale, input multiple and margin. Protobuf decoding only until then; the run itself
 * is onnxruntime's standard ops (custom-op libraries are never loaded).
 */

export interface OnnxImportOptions {
  /** The model's value range: 1 (0-1) or 255 (0-255). Absent: read from metadata `minisr.range` / `value_range`. */
  readonly range?: 1 | 255;
  /** Largest file accepted (bytes); default 1 GiB. */
  readonly maxBytes?: number;
}

export const RANGE_METADATA_KEYS = ['minisr.range', 'value_range'] as const;

const INPUT = 'input';
const OUTPUT = 'output';

/** '1', '0-1', '[0,1]' -> 1; '255', '0-255', '[0, 255]' -> 255. */
function parseRange(v: string): 1 | 255 | undefined {
  const max = /^\[?\s*(?:0\s*[-,]\s*)?(1|255)(?:\.0*)?\s*\]?$/.exec(v.trim())?.[1];
  return max === '1' ? 1 : max === '255' ? 255 : undefined;
}

function dimsOf(v: onnxProto.onnx.IValueInfoProto): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
}

function describe(v: onnxProto.onnx.IValueInfoProto): string {
  return `${v.name}[${dimsOf(v).join(',')}]`;
}

function scalarConstant(name: string, value: number): onnxProto.onnx.INodeProto {
  return {
    name,
    opType: 'Constant',
    output: [name],
    attribute: [
      {
        name: 'value',
        type: onnx.AttributeProto.AttributeType.TENSOR,
        t: { dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [value] },
      },
    ],
  };
}

/** Renames value `from` to `to` wherever the graph's nodes read or write it. */
function renameValue(g: onnxProto.onnx.GraphProto, from: string, to: string): void {
  for (const n of g.node) {
    n.input = (n.input ?? []).map((x) => (x === from ? to : x));
    n.output = (n.output ?? []).map((x) => (x === from ? to : x));
  }
}

/** The model with `input`/`output` in [0, 1] around the original graph, and its range in the metadata. */
function wrap(model: onnxProto.onnx.ModelProto, range: 1 | 255): Uint8Array {
  const g = model.graph as onnxProto.onnx.GraphProto;
  const inits = new Set(g.initializer.map((t) => t.name));
  const input = g.input.find((v) => !inits.has(v.name))!;
  const output = g.output[0]!;
  const inner = { in: `${input.name}__minisr_in`, out: `${output.name}__minisr_out` };
  renameValue(g, input.name ?? '', inner.in);
  renameValue(g, output.name ?? '', inner.out);
  const pre: onnxProto.onnx.INodeProto[] =
    range === 1
      ? [{ name: 'minisr_input', opType: 'Identity', input: [INPUT], output: [inner.in] }]
      : [
          scalarConstant('minisr_range_up', range),
          { name: 'minisr_input', opType: 'Mul', input: [INPUT, 'minisr_range_up'], output: [inner.in] },
        ];
  const post: onnxProto.onnx.INodeProto[] =
    range === 1
      ? [{ name: 'minisr_output', opType: 'Identity', input: [inner.out], output: [OUTPUT] }]
      : [
          scalarConstant('minisr_range_down', 1 / range),
          { name: 'minisr_output', opType: 'Mul', input: [inner.out, 'minisr_range_down'], output: [OUTPUT] },
        ];
  g.node = [...pre, ...g.node, ...post].map((n) => onnx.NodeProto.create(n));
  input.name = INPUT;
  output.name = OUTPUT;
  model.metadataProps = [...model.metadataProps.filter((p) => p.key !== 'minisr.range'), { key: 'minisr.range', value: String(range) }].map(
    (p) => onnx.StringStringEntryProto.create(p),
  );
  return onnx.ModelProto.encode(model).finish();
}

function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`not a valid ONNX model (${(e as Error).message})`, { cause: e });
  }
  if (!model.graph) throw new Error(`not a valid ONNX model (no graph)`);
  return model;
}

/**
 * The first tensor anywhere in `g` (initializers, node attributes, subgraphs) whose data the file
 * says lies in an external file: onnxruntime would read that path, which comes from the untrusted
 * model, so such models are refused rather than followed.
 */
function externalTensor(g: onnxProto.onnx.IGraphProto): string | undefined {
  const isExternal = (t: onnxProto.onnx.ITensorProto | null | undefined) =>
    t?.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t?.externalData?.length ?? 0) > 0;
  const sparse = (t: onnxProto.onnx.ISparseTensorProto | null | undefined) =>
    isExternal(t?.values) ? t?.values : isExternal(t?.indices) ? t?.indices : undefined;
  for (const t of g.initializer ?? []) if (isExternal(t)) return t.name ?? '';
  for (const t of g.sparseInitializer ?? []) if (sparse(t)) return sparse(t)!.name ?? '';
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      const t = [a.t, ...(a.tensors ?? [])].find(isExternal) ?? sparse(a.sparseTensor) ?? a.sparseTensors?.map(sparse).find((x) => x);
      if (t) return `${t.name || a.name} (node ${n.name || n.opType})`;
      for (const sub of [a.g, ...(a.graphs ?? [])]) {
        const inner = sub ? externalTensor(sub) : undefined;
        if (inner !== undefined) return inner;
      }
    }
  }
  return undefined;
}

/** Checks the interface; returns the input's fixed H/W when it declares them. */
function checkInterface(model: onnxProto.onnx.ModelProto): { fixed?: { height: number; width: number } } {
  const g = model.graph as onnxProto.onnx.GraphProto;
  const opset = Number(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < 7) throw new Error(`opset ${opset} is older than 7 (the first with broadcasting Mul); re-export the model`);
  const external = externalTensor(g);
  if (external !== undefined) throw new Error(`tensor ${external} is stored in an external file; import a self-contained .onnx`);
  const inits = new Set(g.initializer.map((t) => t.name));
  const inputs = g.input.filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) {
    throw new Error(`an upscaler takes one image input; this model has ${inputs.length}: ${inputs.map(describe).join(', ') || 'none'}`);
  }
  if (g.output.length !== 1) throw new Error(`expected one output, found ${g.output.length}: ${g.output.map(describe).join(', ')}`);
  const input = inputs[0]!;
  const elem = input.type?.tensorType?.elemType;
  if (elem !== onnx.TensorProto.DataType.FLOAT) {
    throw new Error(`input ${describe(input)} is not float32 (ONNX element type ${String(elem)}); an NCHW float image is expected`);
  }
  const d = dimsOf(input);
  if (d.length !== 4 || (typeof d[1] === 'number' && d[1] !== 3) || (typeof d[0] === 'number' && d[0] > 1)) {
    throw new Error(`input ${describe(input)} is not an NCHW RGB image [N,3,H,W]`);
  }
  const [, , h, w] = d;
  return typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? { fixed: { height: h, width: w } } : {};
}

function rangeOf(model: onnxProto.onnx.ModelProto, opts: OnnxImportOptions): 1 | 255 {
  if (opts.range !== undefined) {
    if (opts.range !== 1 && opts.range !== 255) throw new RangeError(`range must be 1 or 255, got ${String(opts.range)}`);
    return opts.range;
  }
  for (const key of RANGE_METADATA_KEYS) {
    const v = model.metadataProps.find((p) => p.key === key)?.value;
    if (v === undefined || v === null) continue;
    const r = parseRange(v);
    if (r === undefined) throw new Error(`metadata ${key} = ${JSON.stringify(v)} is not a range of 1 or 255`);
    return r;
  }
  throw new Error(`the model's value range is unknown (no ${RANGE_METADATA_KEYS.join(' / ')} metadata): give it as 1 (0-1) or 255 (0-255)`);
}

function countParams(model: onnxProto.onnx.ModelProto): number {
  let n = 0;
  for (const t of (model.graph as onnxProto.onnx.GraphProto).initializer) {
    if (t.dataType === onnx.TensorProto.DataType.FLOAT && (t.dims?.length ?? 0) > 0)
      n += (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1);
  }
  return n;
}

/** Imports ONNX bytes; errors say what is wrong, the caller names the file. */
export async function importOnnxBytes(bytes: Uint8Array, opts: OnnxImportOptions = {}): Promise<ImportedGraph> {
  const model = decode(bytes);
  const { fixed } = checkInterface(model);
  const range = rangeOf(model, opts);
  const params = countParams(model);
  const producer = model.producerName || 'unknown producer';
  const wrapped = wrap(model, range);
  let probe;
  try {
    probe = await openProbe(wrapped, INPUT, OUTPUT);
  } catch (e) {
    throw new Error(`onnxruntime cannot load the model: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  try {
    const { scale, inputMultiple } = await probeScale(probe, fixed);
    const { margin } = await measureMargin(probe, scale, { inputMultiple, ...(fixed ? { fixed } : {}) });
    const architecture = `ONNX (${producer})`;
    return {
      onnx: withImportMetadata(wrapped, { scale, margin, inputMultiple, architecture }),
      scale,
      params,
      architecture,
      margin,
      inputMultiple,
    };
  } finally {
    await probe.session.release();
  }
}

/** Imports an .onnx file, refusing files over `maxBytes` before reading them. */
export async function importOnnx(file: string, opts: OnnxImportOptions = {}): Promise<ImportedGraph> {
  const max = opts.maxBytes ?? 1 << 30;
  const size = (
    await stat(file).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${file}: cannot read (${e.code ?? e.message})`, { cause: e });
    })
  ).size;
  if (size > max) throw new Error(`${file}: ${size} bytes is over the ${max}-byte limit for an ONNX model`);
  return importOnnxBytes(await readFile(file), opts).catch((e: Error) => {
    throw new Error(`${file}: ${e.message}`, { cause: e });
  });
}
