import { float32Tensor, type HostTensor } from '../io/tensor';
import { opDef, type Attrs, type OpType } from './ops';
import { shapeString, type ElemType, type Shape, type Value, type ValueKind } from './value';

export interface Node {
  readonly name: string;
  readonly op: OpType;
  /** `undefined` marks an omitted optional input. */
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
}

export interface ParamInfo {
  readonly value: Value;
  /** Learnable parameters get gradients; buffers (e.g. EDSR's mean) are fixed. */
  readonly learnable: boolean;
}

/**
 * A static-shape graph of ONNX ops under construction. Each `op()` call checks its inputs
 * against the op table's shape rule at once, so a wrong shape fails where it is written.
 * Parameters are named by their checkpoint keys; their data is bound at export time, so the
 * same graph serves inference (parameters as initializers) and training (parameters as inputs).
 */
/** Most inputs of a Concat / outputs of a Split (with the one other tensor, 16 storage buffers). */
export const MAX_FAN_IO = 15;

/** [from, to) index ranges cutting n items into at most MAX_FAN_IO groups of near-equal size. */
function fanGroups(n: number): [number, number][] {
  const count = Math.min(MAX_FAN_IO, Math.ceil(n / MAX_FAN_IO));
  return Array.from({ length: count }, (_, i) => [Math.floor((i * n) / count), Math.floor(((i + 1) * n) / count)]);
}

/**
 * Which kind of device a graph's layout choices are tuned for (the maths is the same): `cpu` (the
 * default) keeps working sets cache-sized and uses CPU-fast ops; `gpu` uses the fewest nodes (each
 * is a kernel dispatch there) and only ops the GPU providers have.
 */
export type BuildTarget = 'cpu' | 'gpu';

/**
 * How the backward pass builds a convolution's weight gradient (grad-conv.ts): `matmul` from
 * shifted copies and MatMuls (~20 nodes a conv, fastest on the CPU EP), or `conv` as one Conv
 * of the batch-transposed input with the batch-transposed output gradient as its kernel (4 nodes:
 * fewer dispatches for a GPU).
 */
export type ConvWeightGrad = 'matmul' | 'conv';

export class Graph {
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly nodes: Node[] = [];
  readonly params = new Map<string, ParamInfo>();
  readonly constants = new Map<string, Value>();
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, Value>();
  private scopes: string[] = [];
  private counter = 0;

  constructor(
    readonly name = 'minisr',
    readonly target: BuildTarget = 'cpu',
    readonly convWeightGrad: ConvWeightGrad = 'matmul',
  ) {}

  // ---- values ----

  input(name: string, shape: Shape, dtype: ElemType = 'float32'): Value {
    const v = this.newValue(name, shape, dtype, 'input');
    this.inputs.push(v);
    return v;
  }

  /** A learnable parameter (or a fixed buffer with `learnable: false`) named by its checkpoint key. */
  param(key: string, shape: Shape, opts: { learnable?: boolean } = {}): Value {
    if (this.params.has(key)) throw new Error(`parameter ${key} declared twice`);
    const v = this.newValue(key, shape, 'float32', 'param');
    this.params.set(key, { value: v, learnable: opts.learnable ?? true });
    return v;
  }

  /** A constant tensor stored in the model; small ones are deduplicated by content. */
  constant(t: HostTensor, name?: string): Value {
    const key =
      t.data.length <= 64 ? `${t.dtype}|${t.shape.join(',')}|${Array.from(t.data as ArrayLike<number | bigint>).join(',')}` : undefined;
    const cached = key !== undefined && name === undefined ? this.constCache.get(key) : undefined;
    if (cached) return cached;
    const v: Value = { ...this.newValue(name ?? this.autoName('const'), t.shape, t.dtype, 'const'), data: t };
    this.constants.set(v.name, v);
    if (key !== undefined && name === undefined) this.constCache.set(key, v);
    return v;
  }

  scalar(x: number): Value {
    return this.constant(float32Tensor([], new Float32Array([x])));
  }

  ints(xs: readonly number[]): Value {
    return this.constant({ dtype: 'int64', shape: [xs.length], data: BigInt64Array.from(xs, (x) => BigInt(x)) });
  }

  // ---- nodes ----

  /** Adds one node; returns its outputs (shape-checked by the op table). */
  op(type: OpType, inputs: readonly (Value | undefined)[], attrs: Attrs = {}, nOutputs?: number): Value[] {
    const def = opDef(type);
    const nodeName = this.autoName(type);
    if (inputs.length < def.arity[0] || inputs.length > def.arity[1]) {
      throw new RangeError(`${nodeName}: ${type} takes ${def.arity[0]}..${def.arity[1]} inputs, got ${inputs.length}`);
    }
    for (const key of Object.keys(attrs)) {
      if (!(key in def.attrs)) throw new TypeError(`${nodeName}: ${type} has no attribute ${key}`);
    }
    let typed;
    try {
      typed = def.infer(inputs, attrs);
    } catch (e) {
      const shapes = inputs.map((v) => (v ? shapeString(v.shape) : '-')).join(', ');
      throw new (e instanceof RangeError ? RangeError : TypeError)(`${nodeName} (${type}, inputs ${shapes}): ${(e as Error).message}`);
    }
    const count = nOutputs ?? 1;
    const outputs = typed
      .slice(0, count)
      .map((t, i) => this.newValue(count === 1 ? nodeName : `${nodeName}:${i}`, t.shape, t.dtype, 'node'));
    this.nodes.push({ name: nodeName, op: type, inputs, outputs, attrs });
    return outputs;
  }

  /** Single-output form of `op`. */
  op1(type: OpType, inputs: readonly (Value | undefined)[], attrs: Attrs = {}): Value {
    return this.op(type, inputs, attrs)[0]!;
  }

  output(v: Value, name?: string): Value {
    const out = name && name !== v.name ? this.rename(v, name) : v;
    this.outputs.push(out);
    return out;
  }

  /** Prefixes node names inside `fn` (e.g. `layers.0.residual_group`), which keeps profiles readable. */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  learnableParams(): Value[] {
    return [...this.params.values()].filter((p) => p.learnable).map((p) => p.value);
  }

  // ---- sugar for the ops the zoo and losses use ----

  add(a: Value, b: Value): Value {
    return this.op1('Add', [a, b]);
  }
  sub(a: Value, b: Value): Value {
    return this.op1('Sub', [a, b]);
  }
  mul(a: Value, b: Value): Value {
    return this.op1('Mul', [a, b]);
  }
  div(a: Value, b: Value): Value {
    return this.op1('Div', [a, b]);
  }
  relu(x: Value): Value {
    return this.op1('Relu', [x]);
  }
  abs(x: Value): Value {
    return this.op1('Abs', [x]);
  }
  matmul(a: Value, b: Value): Value {
    return this.op1('MatMul', [a, b]);
  }
  reshape(x: Value, shape: readonly number[]): Value {
    return this.op1('Reshape', [x, this.ints(shape)]);
  }
  transpose(x: Value, perm: readonly number[]): Value {
    return this.op1('Transpose', [x], { perm });
  }
  /**
   * Concat of any number of values, as a tree of Concats with at most MAX_FAN_IO inputs each:
   * a WebGPU shader binds every input and the output as a storage buffer, and at most 16 of those.
   */
  concat(xs: readonly Value[], axis: number): Value {
    if (xs.length <= MAX_FAN_IO) return this.op1('Concat', xs, { axis });
    return this.concat(
      fanGroups(xs.length).map(([from, to]) => this.concat(xs.slice(from, to), axis)),
      axis,
    );
  }
  /** Split into pieces of `sizes` along `axis`, as a tree of Splits with at most MAX_FAN_IO outputs each (see `concat`). */
  split(x: Value, sizes: readonly number[], axis: number): Value[] {
    if (sizes.length <= MAX_FAN_IO) return this.op('Split', [x, this.ints(sizes)], { axis }, sizes.length);
    const groups = fanGroups(sizes.length);
    const totals = groups.map(([from, to]) => sizes.slice(from, to).reduce((a, b) => a + b, 0));
    return this.split(x, totals, axis).flatMap((part, i) => this.split(part, sizes.slice(groups[i]![0], groups[i]![1]), axis));
  }
  /** sign(x) exactly (0 at 0) for every normal float as Clip(x * 2^126, -1, 1): ops every provider has (WebGPU has no Sign). */
  sign(x: Value): Value {
    return this.op1('Clip', [this.mul(x, this.scalar(2 ** 126)), this.scalar(-1), this.scalar(1)]);
  }
  slice(x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): Value {
    return this.op1('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes), ...(steps ? [this.ints(steps)] : [])]);
  }
  softmax(x: Value, axis = -1): Value {
    return this.op1('Softmax', [x], { axis });
  }
  depthToSpace(x: Value, blocksize: number): Value {
    return this.op1('DepthToSpace', [x], { blocksize, mode: 'CRD' });
  }
  reduceMean(x: Value, axes?: readonly number[], keepdims = true): Value {
    return this.op1('ReduceMean', [x], { ...(axes ? { axes } : {}), keepdims: keepdims ? 1 : 0 });
  }
  conv(
    x: Value,
    w: Value,
    b: Value | undefined,
    opts: { pads?: readonly number[]; strides?: readonly number[]; group?: number } = {},
  ): Value {
    const k = w.shape.slice(2);
    const attrs: Record<string, number | readonly number[]> = { kernel_shape: k };
    attrs.pads = opts.pads ?? [Math.floor(k[0]! / 2), Math.floor(k[1]! / 2), Math.floor(k[0]! / 2), Math.floor(k[1]! / 2)];
    if (opts.strides) attrs.strides = opts.strides;
    if (opts.group) attrs.group = opts.group;
    return this.op1('Conv', b ? [x, w, b] : [x, w], attrs);
  }
  /** Also declares the Mean/InvStdDev outputs so the gradient rule can reuse them. */
  layerNorm(x: Value, scale: Value, bias: Value, epsilon = 1e-5, axis = -1): Value {
    return this.op('LayerNormalization', [x, scale, bias], { axis, epsilon }, 3)[0]!;
  }
  neg(x: Value): Value {
    return this.op1('Neg', [x]);
  }
  sqrt(x: Value): Value {
    return this.op1('Sqrt', [x]);
  }
  where(cond: Value, a: Value, b: Value): Value {
    return this.op1('Where', [cond, a, b]);
  }
  reduceSum(x: Value, axes?: readonly number[], keepdims = true): Value {
    return this.op1('ReduceSum', axes ? [x, this.ints(axes)] : [x], { keepdims: keepdims ? 1 : 0 });
  }
  /** ONNX Pad with per-axis [begin..., end...] pads; mode 'constant' pads with zeros. */
  pad(x: Value, pads: readonly number[], mode: 'constant' | 'reflect' | 'edge' = 'constant'): Value {
    return this.op1('Pad', [x, this.ints(pads)], { mode });
  }
  expand(x: Value, shape: readonly number[]): Value {
    return this.op1('Expand', [x, this.ints(shape)]);
  }
  /** A zero tensor of `shape` without storing its elements in the model. */
  zeros(shape: readonly number[]): Value {
    return this.expand(this.scalar(0), shape);
  }
  /** Exact GELU as PyTorch's nn.GELU(): 0.5 x (1 + erf(x / sqrt 2)). */
  gelu(x: Value): Value {
    const e = this.op1('Erf', [this.mul(x, this.scalar(Math.SQRT1_2))]);
    return this.mul(this.mul(x, this.scalar(0.5)), this.add(e, this.scalar(1)));
  }

  // ---- internals ----

  private rename(v: Value, name: string): Value {
    const [out] = this.withName(name, () => this.op('Identity', [v]));
    return out!;
  }

  private pendingName: string | undefined;

  private withName<T>(name: string, fn: () => T): T {
    this.pendingName = name;
    try {
      return fn();
    } finally {
      this.pendingName = undefined;
    }
  }

  private autoName(base: string): string {
    if (this.pendingName) {
      const n = this.pendingName;
      this.pendingName = undefined;
      return n;
    }
    const prefix = this.scopes.length ? `${this.scopes.join('.')}/` : '';
    return `${prefix}${base}_${this.counter++}`;
  }

  private newValue(name: string, shape: Shape, dtype: ElemType, kind: ValueKind): Value {
    if (this.names.has(name)) throw new Error(`value name ${name} used twice`);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new RangeError(`${name}: bad shape ${shapeString(shape)}`);
    this.names.add(name);
    return { name, shape: [...shape], dtype, kind };
  }
}
