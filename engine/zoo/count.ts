import type { Graph } from '../graph/graph';
import { numel } from '../io/tensor';
import { buildModel } from './build';
import type { ModelConfig } from './registry';

/**
 * Model size and cost. Conventions (those of the SR papers we compare with):
 * - parameters: learnable tensors only (fixed buffers such as EDSR's RGB mean are not counted);
 * - FLOPs: 2 x multiply-accumulates of Conv and MatMul, the ops that dominate; bias additions,
 *   activations, normalisation, softmax and other element-wise ops are not in `flops` but are
 *   reported apart as `elementwise` (one per output element);
 * - the paper's figure is for a 640x360 input (what yields a 1280x720 output at x2).
 */

export interface FlopCount {
  /** 2 x MACs of Conv nodes. */
  conv: number;
  /** 2 x MACs of MatMul nodes (linear layers and attention). */
  matmul: number;
  /** conv + matmul. */
  flops: number;
  /** Output elements of every other node that computes (shape-only ops excluded). */
  elementwise: number;
}

/** Ops that only move or view data. */
const SHAPE_ONLY = new Set([
  'Identity',
  'Reshape',
  'Transpose',
  'Flatten',
  'Unsqueeze',
  'Squeeze',
  'Expand',
  'Tile',
  'Slice',
  'Concat',
  'Split',
  'Gather',
  'DepthToSpace',
  'SpaceToDepth',
  'Pad',
  'Cast',
]);

export function countParams(graph: Graph): number {
  let n = 0;
  for (const v of graph.learnableParams()) n += numel(v.shape);
  return n;
}

export function countFlops(graph: Graph): FlopCount {
  let conv = 0;
  let matmul = 0;
  let elementwise = 0;
  for (const node of graph.nodes) {
    const out = node.outputs[0]!.shape;
    if (node.op === 'Conv') {
      // Each output element: Cin/group x kh x kw multiply-adds (padding positions included, as profilers count).
      const w = node.inputs[1]!.shape;
      conv += 2 * numel(out) * w[1]! * w[2]! * w[3]!;
    } else if (node.op === 'MatMul') {
      const a = node.inputs[0]!.shape;
      matmul += 2 * numel(out) * a[a.length - 1]!;
    } else if (!SHAPE_ONLY.has(node.op)) {
      for (const v of node.outputs) elementwise += numel(v.shape);
    }
  }
  return { conv, matmul, flops: conv + matmul, elementwise };
}

export interface ModelCost {
  params: number;
  /** FLOPs for one 640x360 input (W x H), the paper's convention. */
  flops640x360: number;
  /** FLOPs per megapixel (10^6 pixels) of input. */
  flopsPerMegapixel: number;
  /** The element-wise count for 640x360 (see FlopCount). */
  elementwise640x360: number;
}

export const PAPER_INPUT = { width: 640, height: 360 } as const;

export function modelCost(config: ModelConfig): ModelCost {
  const { graph } = buildModel(config, { height: PAPER_INPUT.height, width: PAPER_INPUT.width });
  const f = countFlops(graph);
  return {
    params: countParams(graph),
    flops640x360: f.flops,
    flopsPerMegapixel: (f.flops / (PAPER_INPUT.width * PAPER_INPUT.height)) * 1e6,
    elementwise640x360: f.elementwise,
  };
}
