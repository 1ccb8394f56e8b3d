import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { float32Tensor, numel, type HostTensor } from '../io/tensor';
import { manifestShardPaths, readModelJson, resolveShard } from './model-json-files';

/**
 * Reads a Keras layers model as TensorFlow.js publishes it (`model.json` + binary weight shards,
 * the format of the UpscalerJS packages) as plain data: the layer list with its connections and
 * the weights by name. JSON parsing and byte copies only; nothing in the files is executed, and
 * only shards beside model.json are read. Errors say what is wrong; the caller names the file.
 */

export interface KerasLayer {
  readonly className: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Names of the layers whose (first) output feeds this layer, in order. */
  readonly inbound: readonly string[];
}

export interface KerasModel {
  /** As listed in the file (Keras writes them in topological order). */
  readonly layers: readonly KerasLayer[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Weight tensors by their manifest name (e.g. `F_0/kernel`), Keras layout (HWIO for conv kernels). */
  readonly weights: ReadonlyMap<string, HostTensor>;
}

export interface KerasReadLimits {
  /** Largest model.json accepted (bytes). */
  readonly maxJsonBytes: number;
  /** Largest total of weight shards accepted (bytes). */
  readonly maxWeightBytes: number;
}

export const DEFAULT_KERAS_LIMITS: KerasReadLimits = { maxJsonBytes: 32 << 20, maxWeightBytes: 1 << 30 };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string): never {
  throw new Error(what);
}

/** Keras 2 inbound nodes: `[[[layerName, nodeIndex, tensorIndex, kwargs], ...]]` (one call per layer here). */
function inboundOf(layer: Json, name: string): string[] {
  const nodes = layer.inbound_nodes;
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes)) fail(`layer ${name}: inbound_nodes is not a list`);
  if (nodes.length !== 1) fail(`layer ${name} is called ${nodes.length} times (shared layers are not supported)`);
  const call = nodes[0] as unknown;
  if (!Array.isArray(call)) fail(`layer ${name}: unsupported inbound_nodes format (Keras 2 layout expected)`);
  return call.map((c: unknown) => {
    if (!Array.isArray(c) || typeof c[0] !== 'string') fail(`layer ${name}: unsupported inbound_nodes entry`);
    if (c[1] !== 0 || c[2] !== 0) fail(`layer ${name}: only the first output of a layer may be used`);
    return c[0];
  });
}

/** `[[name, 0, 0], ...]` -> names. */
function endpoints(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(`model_config.config.${field} is missing`);
  return v.map((e: unknown) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string') fail(`model_config.config.${field}: bad entry`);
    return e[0];
  });
}

function parseTopology(doc: Json): Pick<KerasModel, 'layers' | 'inputs' | 'outputs'> {
  if (doc.format !== undefined && doc.format !== 'layers-model') {
    fail(`format ${JSON.stringify(doc.format)} is not a Keras layers model (a TF.js graph model cannot be imported)`);
  }
  const topo = doc.modelTopology;
  if (!isObject(topo)) fail('no modelTopology (not a TensorFlow.js layers model.json)');
  const mc = isObject(topo.model_config) ? topo.model_config : topo;
  if (mc.class_name !== 'Functional' && mc.class_name !== 'Model') {
    fail(`model class ${JSON.stringify(mc.class_name)} is not supported (a Keras functional model is expected)`);
  }
  const cfg = mc.config;
  if (!isObject(cfg) || !Array.isArray(cfg.layers)) fail('model_config.config.layers is missing');
  const layers = cfg.layers.map((l: unknown, i: number): KerasLayer => {
    if (!isObject(l) || typeof l.class_name !== 'string') fail(`layer ${i} has no class_name`);
    const config = isObject(l.config) ? l.config : {};
    const name = typeof l.name === 'string' ? l.name : typeof config.name === 'string' ? config.name : fail(`layer ${i} has no name`);
    return { className: l.class_name, name, config, inbound: inboundOf(l, name) };
  });
  return {
    layers,
    inputs: endpoints(cfg.input_layers, 'input_layers'),
    outputs: endpoints(cfg.output_layers, 'output_layers'),
  };
}

interface WeightSpec {
  name: string;
  shape: number[];
}

function parseManifest(doc: Json): { paths: string[]; specs: WeightSpec[] } {
  const paths = manifestShardPaths(doc);
  const specs: WeightSpec[] = [];
  for (const g of doc.weightsManifest as unknown[]) {
    if (!isObject(g) || !Array.isArray(g.weights)) fail('weightsManifest entry needs paths and weights');
    for (const w of g.weights as unknown[]) {
      if (!isObject(w) || typeof w.name !== 'string') fail('weight spec without a name');
      if (w.dtype !== 'float32') fail(`weight ${w.name} is ${String(w.dtype)}; only float32 weights are supported`);
      if (w.quantization !== undefined) fail(`weight ${w.name} is quantized; only float32 weights are supported`);
      const shape = w.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        fail(`weight ${w.name} has a bad shape ${JSON.stringify(shape)}`);
      }
      specs.push({ name: w.name, shape: shape as number[] });
    }
  }
  return { paths, specs };
}

/** Reads `model.json` and its shards; errors say what is wrong (missing or escaping shard, size, format). */
export async function readKerasModel(modelJson: string, limits: KerasReadLimits = DEFAULT_KERAS_LIMITS): Promise<KerasModel> {
  // Shards are looked up beside the real model.json (as modelJsonFiles lists them for the allow-list).
  const file = await realpath(path.resolve(modelJson)).catch(() => path.resolve(modelJson));
  const doc = await readModelJson(file, limits.maxJsonBytes);
  const topology = parseTopology(doc);
  const { paths, specs } = parseManifest(doc);

  const dir = path.dirname(file);
  const need = specs.reduce((n, s) => n + 4 * numel(s.shape), 0);
  if (need > limits.maxWeightBytes) fail(`weights of ${need} bytes are over the ${limits.maxWeightBytes}-byte limit`);
  const shards = await Promise.all(paths.map((p) => resolveShard(dir, p)));
  const total = shards.reduce((a, s) => a + s.size, 0);
  if (total !== need) fail(`weight shards hold ${total} bytes, the manifest describes ${need}`);
  const bytes = Buffer.concat(await Promise.all(shards.map((s) => readFile(s.file))));

  const weights = new Map<string, HostTensor>();
  let offset = 0;
  for (const s of specs) {
    const n = numel(s.shape);
    const data = new Float32Array(n);
    // Copy (not view): shard data need not be 4-byte aligned in the concatenated buffer; little-endian as TF.js writes it.
    Buffer.from(data.buffer).set(bytes.subarray(offset, offset + 4 * n));
    offset += 4 * n;
    if (weights.has(s.name)) fail(`weight ${s.name} listed twice`);
    weights.set(s.name, float32Tensor(s.shape, data));
  }
  return { ...topology, weights };
}
