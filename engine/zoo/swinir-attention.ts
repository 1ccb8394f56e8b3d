import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import { float32Tensor, type HostTensor } from '../io/tensor';
import { gridCounts, relativePositionIndex, relayoutIndices, shiftMaskEmbedding, windowOrder, type WindowGrid } from './swinir-windows';

/**
 * SwinIR's window attention as ONNX ops (graph side of `swinir-windows.ts`): the shared
 * size-dependent constants (`Layouts`) and the attention of one block.
 */

/**
 * nn.Linear on the last axis. The parameter keeps torch's [out, in] shape; the Transpose on it only
 * touches an initializer, which onnxruntime folds when the session is created (inference pays
 * nothing for it).
 */
export function linear(g: Graph, x: Value, key: string, cin: number, cout: number): Value {
  const w = g.param(`${key}.weight`, [cout, cin]);
  return g.add(g.matmul(x, g.transpose(w, [1, 0])), g.param(`${key}.bias`, [cout]));
}

function int64(data: Int32Array, shape: readonly number[]): HostTensor {
  return { dtype: 'int64', shape, data: BigInt64Array.from(data, (v) => BigInt(v)) };
}

/**
 * Everything derived from the feature size that the blocks share: token orders (raster and the two
 * window orders), gather indices between them, and the shifted-window mask.
 */
export class Layouts {
  readonly tokens: number;
  readonly windows: number;
  readonly perWindow: number;
  private readonly orders = new Map<number, Int32Array>();
  private readonly gathers = new Map<string, Value>();
  private readonly embeddings = new Map<string, Value>();
  private positionIndex: Value | undefined;

  constructor(
    private readonly g: Graph,
    readonly grid: WindowGrid,
  ) {
    const { windows, tokens } = gridCounts(grid);
    this.windows = windows;
    this.perWindow = tokens;
    this.tokens = grid.height * grid.width;
  }

  /** Token order of window layout `shift`; `undefined` stands for raster order. */
  order(shift: number | undefined): Int32Array | undefined {
    if (shift === undefined) return undefined;
    let o = this.orders.get(shift);
    if (!o) this.orders.set(shift, (o = windowOrder(this.grid, shift)));
    return o;
  }

  /** Moves the tokens of [B, L, C] from one order to another with one Gather. */
  relayout(x: Value, from: number | undefined, to: number | undefined): Value {
    if (from === to) return x;
    const key = `${from ?? 'raster'}->${to ?? 'raster'}`;
    let idx = this.gathers.get(key);
    if (!idx) {
      const data = relayoutIndices(this.order(from), this.order(to), this.tokens);
      idx = this.g.constant(int64(data, [this.tokens]), `swinir.order.${from ?? 'raster'}_to_${to ?? 'raster'}`);
      this.gathers.set(key, idx);
    }
    return this.g.op1('Gather', [x, idx], { axis: 1 });
  }

  /** The official relative_position_index [N, N] (same for every block). */
  relativePositionIndex(): Value {
    const n = this.perWindow;
    this.positionIndex ??= this.g.constant(int64(relativePositionIndex(this.grid.window), [n, n]), 'swinir.relative_position_index');
    return this.positionIndex;
  }

  /** The shifted-window mask as two extra q/k channels [B * windows, groups, N, 2] (see `shiftMaskEmbedding`). */
  maskEmbedding(batch: number, groups: number, shift: number): Value {
    const key = `${batch}/${groups}/${shift}`;
    let m = this.embeddings.get(key);
    if (!m) {
      const data = shiftMaskEmbedding(this.grid, shift, batch, groups);
      m = this.g.constant(float32Tensor([batch * this.windows, groups, this.perWindow, 2], data), `swinir.shift_mask_embedding_${groups}`);
      this.embeddings.set(key, m);
    }
    return m;
  }
}

/**
 * Window attention over tokens already in window order: [B, L, C] -> [B, L, C].
 *
 * Heads go through GEMMs in groups of `groupSize` instead of one tiny GEMM per head: a group's keys
 * and values are spread block-diagonally over its heads (K_bd [hg*N, Cg], zero outside each head's
 * channels), so q [N, Cg] @ K_bd^T gives the group's scores side by side as [N, hg, N], and
 * P [N, hg*N] @ V_bd lands directly in the merged-head layout [N, Cg]. This wastes hg x the
 * multiply-adds but replaces many GEMMs with four-wide outputs, which onnxruntime runs badly.
 * The relative position bias is gathered from the learnable table with a constant index (folded
 * by onnxruntime for inference, differentiable for training); q's scale is folded into its weights.
 * Shifted blocks add the region mask through two extra q/k channels (see `maskEmbedding`).
 */
export function windowAttention(g: Graph, x: Value, key: string, dim: number, heads: number, shift: number, lay: Layouts): Value {
  const [b] = x.shape as [number];
  const n = lay.perWindow;
  const bw = b * lay.windows;
  const hd = dim / heads;
  const hg = groupSize(heads);
  const groups = heads / hg;
  const w = g.param(`${key}.qkv.weight`, [3 * dim, dim]);
  const bias = g.param(`${key}.qkv.bias`, [3 * dim]);
  const weights = [0, 1, 2].map((i) => {
    let wi = g.slice(w, [i * dim], [(i + 1) * dim], [0]);
    let bi = g.slice(bias, [i * dim], [(i + 1) * dim], [0]);
    if (i === 0) [wi, bi] = [g.mul(wi, g.scalar(hd ** -0.5)), g.mul(bi, g.scalar(hd ** -0.5))];
    return { w: g.transpose(wi, [1, 0]), b: bi };
  });
  const ws = lay.grid.window;
  const table = g.param(`${key}.relative_position_bias_table`, [(2 * ws - 1) ** 2, heads]);
  const gathered = g.op1('Gather', [table, lay.relativePositionIndex()], { axis: 0 }); // N, N, heads
  const posBias = g.transpose(g.reshape(gathered, [n, n, groups, hg]), [2, 0, 3, 1]); // groups, N, hg, N
  const maskEmb = shift > 0 ? lay.maskEmbedding(b, groups, shift) : undefined;
  // On a GPU (Graph.target) all windows at once: chunks only add dispatches there.
  const chunks = g.target === 'gpu' ? [bw] : chunkSizes(bw);
  const merged = attendWindows(g, g.reshape(x, [bw, n, dim]), weights, posBias, maskEmb, groups, hg, chunks);
  return linear(g, g.reshape(merged, [b, lay.tokens, dim]), `${key}.proj`, dim, dim);
}

/** Attention core for windows x [W, N, C]: returns [W, N, C] (heads merged, before proj). */
function attendWindows(
  g: Graph,
  x: Value,
  weights: { w: Value; b: Value }[],
  posBias: Value,
  maskEmb: Value | undefined,
  groups: number,
  hg: number,
  chunks: readonly number[],
): Value {
  const [bw, n, dim] = x.shape as [number, number, number];
  const cg = dim / groups;
  /** q, k or v as [W, groups, N, Cg]. */
  const part = (i: number): Value => {
    const y = g.add(g.matmul(x, weights[i]!.w), weights[i]!.b);
    return groups === 1 ? g.reshape(y, [bw, 1, n, dim]) : g.transpose(g.reshape(y, [bw, n, groups, cg]), [0, 2, 1, 3]);
  };
  let q = part(0);
  let k = part(1);
  const v = part(2);
  let extra = 0;
  if (maskEmb) [q, k, extra] = [g.concat([q, maskEmb], 3), g.concat([k, maskEmb], 3), maskEmb.shape[3]!];
  // The head mask is pre-expanded over the window's tokens so the broadcast Mul runs over long contiguous rows.
  const spread = (t: Value, channels: number) =>
    g.reshape(g.mul(g.reshape(t, [bw, groups, 1, n * channels]), headMask(g, hg, n, cg, channels - cg)), [bw, groups, hg * n, channels]);
  const ks = spread(k, cg + extra);
  const vs = spread(v, cg);
  // The score tensor is the big one (heads * N * N per window): in chunks of windows (on a CPU) it
  // stays in cache from the GEMM through bias, softmax and the second GEMM.
  const split = (t: Value) => (chunks.length === 1 ? [t] : g.split(t, chunks, 0));
  const [qc, kc, vc] = [split(q), split(ks), split(vs)];
  const outs = chunks.map((w, i) => {
    const scores = g.matmul(qc[i]!, g.transpose(kc[i]!, [0, 1, 3, 2])); // w, groups, N, hg*N
    const probs = g.softmax(g.add(g.reshape(scores, [w, groups, n, hg, n]), posBias), -1);
    return g.matmul(g.reshape(probs, [w, groups, n, hg * n]), vc[i]!); // w, groups, N, Cg
  });
  const out = outs.length === 1 ? outs[0]! : g.concat(outs, 0);
  return groups === 1 ? g.reshape(out, [bw, n, dim]) : g.reshape(g.transpose(out, [0, 2, 1, 3]), [bw, n, dim]);
}

/**
 * [heads, N * (C + extra)] for `heads` heads sharing C channels: for head h and every token of a
 * window, 1 on the channels of head h and on the `extra` trailing channels (which every head
 * shares), 0 elsewhere.
 */
function headMask(g: Graph, heads: number, n: number, dim: number, extra: number): Value {
  const cache = headMasks.get(g) ?? new Map<string, Value>();
  headMasks.set(g, cache);
  const key = `${heads}/${n}/${dim}/${extra}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const c = dim + extra;
  const data = new Float32Array(heads * n * c);
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < n; t++) {
      const row = (h * n + t) * c;
      data.fill(1, row + (h * dim) / heads, row + ((h + 1) * dim) / heads);
      data.fill(1, row + dim, row + c);
    }
  }
  const m = g.constant(float32Tensor([heads, n * c], data));
  cache.set(key, m);
  return m;
}

const headMasks = new WeakMap<Graph, Map<string, Value>>();

/**
 * Heads per attention GEMM: the smallest group above one head. Spreading wastes hg x the
 * multiply-adds; one head per GEMM leaves outputs of head_dim (4..10) columns, which onnxruntime
 * runs worst; two heads per GEMM measured best (docs/bench-graphs.md).
 */
function groupSize(heads: number): number {
  for (let hg = 2; hg <= heads; hg++) if (heads % hg === 0) return hg;
  return 1;
}

/** Windows per chunk of the score tensor: 32 * heads * N * N floats (3 MB for 6 heads, N = 64) stay in cache. */
const WINDOWS_PER_CHUNK = 32;

function chunkSizes(windows: number): number[] {
  const count = Math.max(1, Math.round(windows / WINDOWS_PER_CHUNK));
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 1) * windows) / count) - Math.floor((i * windows) / count));
}
