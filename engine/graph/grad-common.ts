import type { Graph, Node } from './graph';
import type { Value } from './value';

/**
 * What a gradient rule is, and the few helpers every rule file shares. A rule gets the forward
 * node, the gradient of each output (undefined: none flows there) and the builder, and returns
 * one gradient per input (undefined where `needs(i)` is false). Rules emit default-domain ONNX
 * ops only. A returned gradient may have any shape that broadcasts to its input: the walker
 * (autodiff.ts) sums broadcast axes away in one place.
 */

export interface GradArgs {
  readonly g: Graph;
  readonly node: Node;
  /** Gradient of each output; undefined where no gradient flows into that output. */
  readonly dY: readonly (Value | undefined)[];
  /** Whether input i needs a gradient (on a path from a wrt value, differentiable). */
  readonly needs: (i: number) => boolean;
}

export type GradRule = (a: GradArgs) => readonly (Value | undefined)[];

/** Input / output i of a node. */
export const x = (n: Node, i = 0): Value => n.inputs[i]!;
export const y = (n: Node, i = 0): Value => n.outputs[i]!;
export const d0 = (a: GradArgs): Value => a.dY[0]!;
/** The gradient if it is needed (built lazily), else undefined. */
export const when = (need: boolean, fn: () => Value): Value | undefined => (need ? fn() : undefined);

/** Reverses a tensor along one axis (Slice with step -1). */
export function flip(g: Graph, v: Value, axis: number): Value {
  return g.slice(v, [-1], [-(2 ** 62)], [axis], [-1]);
}
