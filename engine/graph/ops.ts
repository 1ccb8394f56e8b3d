import { numel } from '../io/tensor';
import { broadcastShapes, normAxis, shapeString, type ElemType, type Shape, type Value } from './value';
import { constInts, sliceRange } from './const-args';
import { intAttr, intsAttr } from './attrs';
import { gradConv, gradConvTranspose } from './grad-conv';
import * as R from './grad-rules';
import type { GradRule } from './grad-common';

/**
 * The op table: every ONNX op our graphs may contain, keyed by its ONNX type, with its attribute
 * types, its static shape rule and its gradient rule side by side (rules in grad-rules.ts).
 * An op not in this table cannot be built, so the set of ops we emit stays explicit.
 */

export type AttrType = 'int' | 'ints' | 'float' | 'floats' | 'string';
export type AttrValue = number | readonly number[] | string;
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface TypedShape {
  shape: Shape;
  dtype: ElemType;
}

/** Inputs as the shape rule sees them; `undefined` marks an omitted optional input. */
export type OpInputs = readonly (Value | undefined)[];

export interface OpDef {
  readonly attrs: Readonly<Record<string, AttrType>>;
  /** Smallest and largest number of inputs (optional trailing inputs may be omitted). */
  readonly arity: readonly [number, number];
  readonly infer: (inputs: OpInputs, attrs: Attrs) => TypedShape[];
  /**
   * Reverse-mode rule (autodiff.ts). 'none': the outputs carry no gradient (comparisons,
   * Sign, Cast...). Absent: not written yet; the walker throws naming the op and node.
   */
  readonly grad?: GradRule | 'none';
  /** Inputs that never receive gradients (indices, shapes, axes, conditions). */
  readonly nondiff?: readonly number[];
}

export { constInts, sliceRange };

// ---- helpers for shape rules ----

function req(inputs: OpInputs, i: number): Value {
  const v = inputs[i];
  if (!v) throw new TypeError(`input ${i} is required`);
  return v;
}

const same = (inputs: OpInputs): TypedShape[] => {
  const x = req(inputs, 0);
  return [{ shape: x.shape, dtype: x.dtype }];
};

const broadcast = (inputs: OpInputs): TypedShape[] => {
  const a = req(inputs, 0);
  const b = req(inputs, 1);
  if (a.dtype !== b.dtype) throw new TypeError(`element types differ: ${a.dtype} vs ${b.dtype}`);
  return [{ shape: broadcastShapes(a.shape, b.shape), dtype: a.dtype }];
};

const compare = (inputs: OpInputs): TypedShape[] => [{ shape: broadcast(inputs)[0]!.shape, dtype: 'bool' }];

const unary = (grad: GradRule | 'none'): OpDef => ({ attrs: {}, arity: [1, 1], infer: same, grad });
const binary = (grad: GradRule): OpDef => ({ attrs: {}, arity: [2, 2], infer: broadcast, grad });

/** Output size of a sliding window along one axis (Conv, pooling). */
function windowOut(size: number, k: number, stride: number, padBegin: number, padEnd: number, dilation: number, ceil = false): number {
  const span = size + padBegin + padEnd - dilation * (k - 1) - 1;
  const out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (out <= 0) throw new RangeError(`window of ${k} does not fit an axis of ${size}`);
  return out;
}

function reduceShape(shape: Shape, axes: readonly number[] | undefined, keepdims: boolean): number[] {
  const all = axes === undefined || axes.length === 0;
  const set = new Set((axes ?? []).map((a) => normAxis(a, shape.length)));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (all || set.has(i)) {
      if (keepdims) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** Opset-17 ReduceMean/ReduceMax: axes as an attribute (all axes when absent). */
const reduceWithAxesAttr = (inputs: OpInputs, attrs: Attrs): TypedShape[] => {
  const x = req(inputs, 0);
  const axes = attrs.axes === undefined ? undefined : intsAttr(attrs, 'axes', []);
  return [{ shape: reduceShape(x.shape, axes, intAttr(attrs, 'keepdims', 1) === 1), dtype: x.dtype }];
};

// ---- the table ----

export const OPS = {
  Identity: unary(R.gradIdentity),
  Neg: unary(R.gradNeg),
  Abs: unary(R.gradAbs),
  Sqrt: unary(R.gradSqrt),
  Exp: unary(R.gradExp),
  Log: unary(R.gradLog),
  Erf: unary(R.gradErf),
  Sigmoid: unary(R.gradSigmoid),
  Tanh: unary(R.gradTanh),
  Sign: unary('none'),
  Reciprocal: unary(R.gradReciprocal),
  Floor: unary('none'),
  Relu: unary(R.gradRelu),
  LeakyRelu: { attrs: { alpha: 'float' }, arity: [1, 1], infer: same, grad: R.gradLeakyRelu },
  Add: binary(R.gradAdd),
  Sub: binary(R.gradSub),
  Mul: binary(R.gradMul),
  Div: binary(R.gradDiv),
  Pow: binary(R.gradPow),
  Max: binary(R.gradMax),
  Min: binary(R.gradMin),
  Greater: { attrs: {}, arity: [2, 2], infer: compare, grad: 'none' },
  Less: { attrs: {}, arity: [2, 2], infer: compare, grad: 'none' },
  Equal: { attrs: {}, arity: [2, 2], infer: compare, grad: 'none' },
  Where: {
    attrs: {},
    arity: [3, 3],
    grad: R.gradWhere,
    nondiff: [0],
    infer: (inputs) => {
      const c = req(inputs, 0);
      const x = req(inputs, 1);
      const y = req(inputs, 2);
      if (c.dtype !== 'bool') throw new TypeError('Where condition must be bool');
      return [{ shape: broadcastShapes(c.shape, broadcastShapes(x.shape, y.shape)), dtype: x.dtype }];
    },
  },
  Cast: {
    attrs: { to: 'int' },
    arity: [1, 1],
    grad: 'none',
    infer: (inputs, attrs) => [{ shape: req(inputs, 0).shape, dtype: elemTypeFromOnnx(intAttr(attrs, 'to', 1)) }],
  },
  Clip: {
    attrs: {},
    arity: [1, 3],
    grad: R.gradClip,
    nondiff: [1, 2],
    infer: same,
  },
  MatMul: {
    attrs: {},
    arity: [2, 2],
    grad: R.gradMatMul,
    infer: (inputs) => {
      const a = req(inputs, 0).shape;
      const b = req(inputs, 1).shape;
      if (a.length < 2 || b.length < 2) throw new RangeError('MatMul operands must be at least 2-D here');
      const [m, k] = [a[a.length - 2]!, a[a.length - 1]!];
      const [k2, n] = [b[b.length - 2]!, b[b.length - 1]!];
      if (k !== k2) throw new RangeError(`MatMul inner dimensions differ: ${shapeString(a)} x ${shapeString(b)}`);
      const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
      return [{ shape: [...batch, m, n], dtype: req(inputs, 0).dtype }];
    },
  },
  Conv: {
    attrs: { dilations: 'ints', group: 'int', kernel_shape: 'ints', pads: 'ints', strides: 'ints' },
    arity: [2, 3],
    grad: gradConv,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0).shape;
      const w = req(inputs, 1).shape;
      if (x.length !== 4 || w.length !== 4) throw new RangeError('Conv supports 2-D (NCHW) only');
      const group = intAttr(attrs, 'group', 1);
      if (x[1] !== w[1]! * group) throw new RangeError(`Conv channels: input has ${x[1]}, weight expects ${w[1]! * group}`);
      const b = inputs[2];
      if (b && (b.shape.length !== 1 || b.shape[0] !== w[0])) throw new RangeError(`Conv bias must be [${w[0]}]`);
      const pads = intsAttr(attrs, 'pads', [0, 0, 0, 0]);
      const strides = intsAttr(attrs, 'strides', [1, 1]);
      const dil = intsAttr(attrs, 'dilations', [1, 1]);
      const h = windowOut(x[2]!, w[2]!, strides[0]!, pads[0]!, pads[2]!, dil[0]!);
      const wd = windowOut(x[3]!, w[3]!, strides[1]!, pads[1]!, pads[3]!, dil[1]!);
      return [{ shape: [x[0]!, w[0]!, h, wd], dtype: 'float32' }];
    },
  },
  ConvTranspose: {
    attrs: { dilations: 'ints', group: 'int', kernel_shape: 'ints', pads: 'ints', strides: 'ints', output_padding: 'ints' },
    arity: [2, 3],
    grad: gradConvTranspose,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0).shape;
      const w = req(inputs, 1).shape;
      if (x.length !== 4 || w.length !== 4) throw new RangeError('ConvTranspose supports 2-D (NCHW) only');
      const group = intAttr(attrs, 'group', 1);
      if (x[1] !== w[0]) throw new RangeError(`ConvTranspose channels: input has ${x[1]}, weight expects ${w[0]}`);
      const pads = intsAttr(attrs, 'pads', [0, 0, 0, 0]);
      const strides = intsAttr(attrs, 'strides', [1, 1]);
      const dil = intsAttr(attrs, 'dilations', [1, 1]);
      const op = intsAttr(attrs, 'output_padding', [0, 0]);
      const size = (i: number, axis: number) =>
        strides[axis]! * (x[i]! - 1) + op[axis]! + (w[i]! - 1) * dil[axis]! + 1 - pads[axis]! - pads[axis + 2]!;
      return [{ shape: [x[0]!, w[1]! * group, size(2, 0), size(3, 1)], dtype: 'float32' }];
    },
  },
  AveragePool: {
    attrs: { kernel_shape: 'ints', strides: 'ints', pads: 'ints', count_include_pad: 'int', ceil_mode: 'int' },
    arity: [1, 1],
    grad: R.gradAveragePool,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0).shape;
      const k = intsAttr(attrs, 'kernel_shape', []);
      if (x.length !== 4 || k.length !== 2) throw new RangeError('AveragePool supports 2-D (NCHW) only');
      const s = intsAttr(attrs, 'strides', [1, 1]);
      const p = intsAttr(attrs, 'pads', [0, 0, 0, 0]);
      const ceil = intAttr(attrs, 'ceil_mode', 0) === 1;
      return [
        {
          shape: [
            x[0]!,
            x[1]!,
            windowOut(x[2]!, k[0]!, s[0]!, p[0]!, p[2]!, 1, ceil),
            windowOut(x[3]!, k[1]!, s[1]!, p[1]!, p[3]!, 1, ceil),
          ],
          dtype: 'float32',
        },
      ];
    },
  },
  Softmax: { attrs: { axis: 'int' }, arity: [1, 1], infer: same, grad: R.gradSoftmax },
  LayerNormalization: {
    attrs: { axis: 'int', epsilon: 'float', stash_type: 'int' },
    arity: [2, 3],
    grad: R.gradLayerNorm,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0);
      const axis = normAxis(intAttr(attrs, 'axis', -1), x.shape.length);
      const normShape = x.shape.slice(axis);
      if (numel(req(inputs, 1).shape) !== numel(normShape))
        throw new RangeError('LayerNormalization scale must match the normalised shape');
      const stat = x.shape.map((d, i) => (i < axis ? d : 1));
      return [
        { shape: x.shape, dtype: x.dtype },
        { shape: stat, dtype: 'float32' },
        { shape: stat, dtype: 'float32' },
      ];
    },
  },
  Reshape: {
    attrs: { allowzero: 'int' },
    arity: [2, 2],
    grad: R.gradReshape,
    nondiff: [1],
    infer: (inputs) => {
      const x = req(inputs, 0);
      const target = constInts(inputs[1], 'Reshape shape');
      const out = target.map((d, i) => (d === 0 ? x.shape[i]! : d));
      const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const total = numel(x.shape);
      const inferred = out.map((d) => (d === -1 ? total / known : d));
      if (out.filter((d) => d === -1).length > 1 || numel(inferred) !== total || inferred.some((d) => !Number.isInteger(d))) {
        throw new RangeError(`cannot reshape ${shapeString(x.shape)} to ${shapeString(target)}`);
      }
      return [{ shape: inferred, dtype: x.dtype }];
    },
  },
  Transpose: {
    attrs: { perm: 'ints' },
    arity: [1, 1],
    grad: R.gradTranspose,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0);
      const perm = intsAttr(attrs, 'perm', [...x.shape.keys()].reverse());
      if (perm.length !== x.shape.length || new Set(perm).size !== perm.length) throw new RangeError(`bad perm [${perm.join(', ')}]`);
      return [{ shape: perm.map((p) => x.shape[normAxis(p, x.shape.length, 'perm')]!), dtype: x.dtype }];
    },
  },
  Flatten: {
    attrs: { axis: 'int' },
    arity: [1, 1],
    grad: R.gradReshape,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0);
      const axis = intAttr(attrs, 'axis', 1);
      const a = axis < 0 ? axis + x.shape.length : axis;
      return [{ shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))], dtype: x.dtype }];
    },
  },
  Unsqueeze: {
    attrs: {},
    arity: [2, 2],
    grad: R.gradReshape,
    nondiff: [1],
    infer: (inputs) => {
      const x = req(inputs, 0);
      const rank = x.shape.length + constInts(inputs[1], 'Unsqueeze axes').length;
      const axes = new Set(constInts(inputs[1], 'Unsqueeze axes').map((a) => normAxis(a, rank)));
      const out: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(axes.has(i) ? 1 : x.shape[j++]!);
      return [{ shape: out, dtype: x.dtype }];
    },
  },
  Squeeze: {
    attrs: {},
    arity: [2, 2],
    grad: R.gradReshape,
    nondiff: [1],
    infer: (inputs) => {
      const x = req(inputs, 0);
      const axes = new Set(constInts(inputs[1], 'Squeeze axes').map((a) => normAxis(a, x.shape.length)));
      for (const a of axes) if (x.shape[a] !== 1) throw new RangeError(`cannot squeeze axis ${a} of ${shapeString(x.shape)}`);
      return [{ shape: x.shape.filter((_, i) => !axes.has(i)), dtype: x.dtype }];
    },
  },
  Expand: {
    attrs: {},
    arity: [2, 2],
    grad: R.gradExpand,
    nondiff: [1],
    infer: (inputs) => {
      const x = req(inputs, 0);
      return [{ shape: broadcastShapes(x.shape, constInts(inputs[1], 'Expand shape')), dtype: x.dtype }];
    },
  },
  Tile: {
    attrs: {},
    arity: [2, 2],
    grad: R.gradTile,
    nondiff: [1],
    infer: (inputs) => {
      const x = req(inputs, 0);
      const reps = constInts(inputs[1], 'Tile repeats');
      if (reps.length !== x.shape.length) throw new RangeError('Tile repeats must match the rank');
      return [{ shape: x.shape.map((d, i) => d * reps[i]!), dtype: x.dtype }];
    },
  },
  Slice: {
    attrs: {},
    arity: [3, 5],
    grad: R.gradSlice,
    nondiff: [1, 2, 3, 4],
    infer: (inputs) => {
      const x = req(inputs, 0);
      const starts = constInts(inputs[1], 'Slice starts');
      const ends = constInts(inputs[2], 'Slice ends');
      const axes = inputs[3] ? constInts(inputs[3], 'Slice axes') : starts.map((_, i) => i);
      const steps = inputs[4] ? constInts(inputs[4], 'Slice steps') : starts.map(() => 1);
      const out = [...x.shape];
      axes.forEach((a, i) => {
        const ax = normAxis(a, x.shape.length);
        out[ax] = sliceRange(x.shape[ax]!, starts[i]!, ends[i]!, steps[i]!).count;
      });
      return [{ shape: out, dtype: x.dtype }];
    },
  },
  Concat: {
    attrs: { axis: 'int' },
    arity: [1, Infinity],
    grad: R.gradConcat,
    infer: (inputs, attrs) => {
      const xs = inputs.map((_, i) => req(inputs, i));
      const first = xs[0]!;
      const axis = normAxis(intAttr(attrs, 'axis', 0), first.shape.length);
      const out = [...first.shape];
      out[axis] = 0;
      for (const x of xs) {
        if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
          throw new RangeError(`Concat shapes differ: ${shapeString(first.shape)} vs ${shapeString(x.shape)}`);
        }
        out[axis]! += x.shape[axis]!;
      }
      return [{ shape: out, dtype: first.dtype }];
    },
  },
  Split: {
    attrs: { axis: 'int' },
    arity: [2, 2],
    grad: R.gradSplit,
    nondiff: [1],
    infer: (inputs, attrs) => {
      const x = req(inputs, 0);
      const axis = normAxis(intAttr(attrs, 'axis', 0), x.shape.length);
      const sizes = constInts(inputs[1], 'Split sizes');
      if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) throw new RangeError('Split sizes must add up to the axis');
      return sizes.map((s) => ({ shape: x.shape.map((d, i) => (i === axis ? s : d)), dtype: x.dtype }));
    },
  },
  Gather: {
    attrs: { axis: 'int' },
    arity: [2, 2],
    grad: R.gradGather,
    nondiff: [1],
    infer: (inputs, attrs) => {
      const x = req(inputs, 0);
      const idx = req(inputs, 1);
      const axis = normAxis(intAttr(attrs, 'axis', 0), x.shape.length);
      return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
    },
  },
  ScatterElements: {
    attrs: { axis: 'int', reduction: 'string' },
    arity: [3, 3],
    nondiff: [1],
    infer: same,
  },
  DepthToSpace: {
    attrs: { blocksize: 'int', mode: 'string' },
    arity: [1, 1],
    grad: R.gradDepthToSpace,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0).shape;
      const b = intAttr(attrs, 'blocksize', 0);
      if (x.length !== 4 || b < 1 || x[1]! % (b * b) !== 0) throw new RangeError(`DepthToSpace(${b}) cannot apply to ${shapeString(x)}`);
      return [{ shape: [x[0]!, x[1]! / (b * b), x[2]! * b, x[3]! * b], dtype: 'float32' }];
    },
  },
  SpaceToDepth: {
    attrs: { blocksize: 'int' },
    arity: [1, 1],
    grad: R.gradSpaceToDepth,
    infer: (inputs, attrs) => {
      const x = req(inputs, 0).shape;
      const b = intAttr(attrs, 'blocksize', 0);
      if (x.length !== 4 || x[2]! % b !== 0 || x[3]! % b !== 0)
        throw new RangeError(`SpaceToDepth(${b}) cannot apply to ${shapeString(x)}`);
      return [{ shape: [x[0]!, x[1]! * b * b, x[2]! / b, x[3]! / b], dtype: 'float32' }];
    },
  },
  Pad: {
    attrs: { mode: 'string' },
    arity: [2, 3],
    grad: R.gradPad,
    nondiff: [1],
    infer: (inputs) => {
      const x = req(inputs, 0);
      const pads = constInts(inputs[1], 'Pad pads');
      const r = x.shape.length;
      if (pads.length !== 2 * r) throw new RangeError(`Pad needs ${2 * r} pads`);
      return [{ shape: x.shape.map((d, i) => d + pads[i]! + pads[i + r]!), dtype: x.dtype }];
    },
  },
  ReduceMean: {
    attrs: { axes: 'ints', keepdims: 'int' },
    arity: [1, 1],
    grad: R.gradReduceMean,
    infer: reduceWithAxesAttr,
  },
  ReduceMax: {
    attrs: { axes: 'ints', keepdims: 'int' },
    arity: [1, 1],
    infer: reduceWithAxesAttr,
  },
  // Opset 13+: ReduceSum takes its axes as an (optional) constant input.
  ReduceSum: {
    attrs: { keepdims: 'int', noop_with_empty_axes: 'int' },
    arity: [1, 2],
    grad: R.gradReduceSum,
    nondiff: [1],
    infer: (inputs, attrs) => {
      const x = req(inputs, 0);
      const axes = inputs[1] ? constInts(inputs[1], 'ReduceSum axes') : undefined;
      return [{ shape: reduceShape(x.shape, axes, intAttr(attrs, 'keepdims', 1) === 1), dtype: x.dtype }];
    },
  },
} satisfies Record<string, OpDef>;

export type OpType = keyof typeof OPS;

export function opDef(type: string): OpDef {
  const def = (OPS as Record<string, OpDef>)[type];
  if (!def) throw new TypeError(`op ${type} is not in the op table (engine/graph/ops.ts)`);
  return def;
}

const ONNX_TYPES: Record<ElemType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9 };

export function onnxElemType(t: ElemType): number {
  return ONNX_TYPES[t];
}

export function elemTypeFromOnnx(code: number): ElemType {
  const found = (Object.keys(ONNX_TYPES) as ElemType[]).find((k) => ONNX_TYPES[k] === code);
  if (!found) throw new TypeError(`ONNX element type ${code} is not supported`);
  return found;
}
