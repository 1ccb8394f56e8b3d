import { float32Tensor, numel } from '../io/tensor';
import type { Graph, Node } from './graph';
import { opDef } from './ops';
import type { Value } from './value';

/**
 * Reverse-mode autodiff that emits the backward pass as default-domain ONNX nodes into the
 * same Graph, so one ORT session runs forward + backward. Gradient rules live beside the shape
 * rules in the op table (ops.ts -> grad-rules.ts); this walker does the rest in one place:
 * pruning (only nodes on a path from a wrt value to the loss), accumulation (Add) of values
 * used more than once, and un-broadcasting (ReduceSum over broadcast axes + Reshape).
 *
 * API used by the trainer (engine/train/train-graph.ts):
 *
 *   const g = new Graph('train');
 *   const lr = g.input('lr', [N, 3, h, w]);                   // batch inputs
 *   const hr = g.input('hr', [N, 3, H, W]);
 *   const teacher = g.input('teacher', [N, 3, H, W]);         // cached teacher output: no gradients
 *   const sr = resolveArch(config).build(g, lr);              // params: g.param(key, shape)
 *   const loss = distillationLoss(g, sr, teacher, hr);        // engine/train/losses.ts, shape []
 *   const t = buildTrainingGraph(g, loss, { monitors: { l1: l1Loss(g, sr, hr) } });
 *   const onnx = toOnnx(g, { params: 'inputs' });             // every parameter is a graph input
 *
 * Feeds: the batch inputs plus one tensor per key of `g.params` (frozen buffers too).
 * Outputs: `loss` (t.loss), `grad.<key>` for each learnable key in t.params (t.grads maps key
 * to output name), and each monitor under its own name. Parameters declared with
 * `{ learnable: false }`, constants and inputs get no gradient nodes at all.
 *
 * `gradients(g, loss, wrt)` is the lower-level form: it appends the backward pass and returns
 * the gradient Value of each wrt value (inputs, params or node outputs alike).
 */

export interface TrainingGraph {
  readonly graph: Graph;
  /** Output name of the scalar loss. */
  readonly loss: string;
  /** Learnable parameter keys, in declaration order. */
  readonly params: readonly string[];
  /** Parameter key -> output name of its gradient (`grad.<key>`). */
  readonly grads: ReadonlyMap<string, string>;
  /** Monitor name -> output name. */
  readonly monitors: ReadonlyMap<string, string>;
}

/**
 * Appends the backward pass of `loss` to `graph` and returns d loss / d v for each v in wrt.
 * Only nodes on a path from some wrt value to the loss are differentiated; a wrt value the loss
 * does not depend on gets zeros. A node on such a path whose op has no rule throws, naming both.
 */
export function gradients(graph: Graph, loss: Value, wrt: readonly Value[]): Map<Value, Value> {
  const nodes = [...graph.nodes]; // the forward part: backward nodes are appended after it
  const live = liveValues(nodes, wrt);
  const pending = new Map<string, Value[]>();
  const contribute = (v: Value, d: Value) => {
    const list = pending.get(v.name);
    if (list) list.push(d);
    else pending.set(v.name, [d]);
  };
  const total = (v: Value): Value | undefined => {
    const list = pending.get(v.name);
    if (!list) return undefined;
    // Accumulate once, in one place; later readers see the sum.
    const sum = list.reduce((acc, d) => graph.add(acc, d));
    pending.set(v.name, [sum]);
    return sum;
  };

  if (!live.has(loss.name)) return new Map(wrt.map((w) => [w, graph.zeros(w.shape)]));
  contribute(loss, graph.constant(float32Tensor(loss.shape, new Float32Array(loss.shape.reduce((a, b) => a * b, 1)).fill(1))));

  graph.scope('grad', () => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      const dY = node.outputs.map((o) => (live.has(o.name) ? total(o) : undefined));
      if (dY.every((d) => d === undefined)) continue;
      const def = opDef(node.op);
      const needs = (k: number) => needsGrad(node, k, live);
      if (!node.inputs.some((_, k) => needs(k))) continue;
      if (def.grad === undefined)
        throw new TypeError(`no gradient rule for ${node.op} (node ${node.name}); add one in engine/graph/grad-rules.ts`);
      if (def.grad === 'none') continue;
      const grads = def.grad({ g: graph, node, dY, needs });
      node.inputs.forEach((v, k) => {
        const d = grads[k];
        if (!v || !needs(k)) return;
        if (!d) throw new Error(`gradient rule for ${node.op} returned nothing for input ${k} of ${node.name}`);
        contribute(v, unbroadcast(graph, d, v.shape));
      });
    }
  });
  return new Map(wrt.map((w) => [w, total(w) ?? graph.zeros(w.shape)]));
}

/** Values that depend on some wrt value through differentiable inputs. */
function liveValues(nodes: readonly Node[], wrt: readonly Value[]): Set<string> {
  const live = new Set(wrt.map((w) => w.name));
  for (const node of nodes) {
    const def = opDef(node.op);
    if (def.grad === 'none') continue;
    if (node.inputs.some((v, k) => v && live.has(v.name) && !def.nondiff?.includes(k))) {
      for (const o of node.outputs) if (o.dtype === 'float32') live.add(o.name);
    }
  }
  return live;
}

function needsGrad(node: Node, k: number, live: ReadonlySet<string>): boolean {
  const v = node.inputs[k];
  return !!v && live.has(v.name) && !opDef(node.op).nondiff?.includes(k);
}

/**
 * Turns a graph holding a forward pass and a scalar loss into a training graph: outputs
 * `loss`, `grad.<key>` for every learnable parameter, and the monitors under their names.
 */
export function buildTrainingGraph(graph: Graph, loss: Value, opts: { monitors?: Readonly<Record<string, Value>> } = {}): TrainingGraph {
  if (loss.shape.length !== 0 && !(loss.shape.length === 1 && loss.shape[0] === 1)) {
    throw new RangeError(`loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
  }
  const keys = [...graph.params].filter(([, p]) => p.learnable).map(([k]) => k);
  const wrt = keys.map((k) => graph.params.get(k)!.value);
  const grads = gradients(graph, loss, wrt);
  graph.output(loss, 'loss');
  const gradNames = new Map<string, string>();
  keys.forEach((k, i) => gradNames.set(k, graph.output(grads.get(wrt[i]!)!, `grad.${k}`).name));
  const monitors = new Map<string, string>();
  for (const [name, v] of Object.entries(opts.monitors ?? {})) monitors.set(name, graph.output(v, name).name);
  return { graph, loss: 'loss', params: keys, grads: gradNames, monitors };
}

/** Sums `v` (any shape broadcasting to `shape`) down to `shape`: the walker's un-broadcast. */
export function unbroadcast(g: Graph, v: Value, shape: readonly number[]): Value {
  if (v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i])) return v;
  const lead = v.shape.length - shape.length;
  const axes: number[] = [];
  v.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  let out = axes.length ? g.reduceSum(v, axes, true) : v;
  if (numel(out.shape) < numel(shape)) out = g.expand(out, shape);
  if (numel(out.shape) !== numel(shape)) throw new RangeError(`gradient of shape [${v.shape}] cannot reduce to [${shape}]`);
  return out.shape.length === shape.length && out.shape.every((d, i) => d === shape[i]) ? out : g.reshape(out, shape);
}
