import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';

/**
 * The contract every architecture family implements. A family builds its forward pass into a
 * Graph for a concrete input shape (graphs are static; rebuilding is cheap), declaring its
 * parameters with `g.param(key, shape)` under the official checkpoint key names.
 */
export interface ArchFamily<C> {
  readonly family: string;
  /** Checks a config and fills defaults; throws RangeError/TypeError naming the bad field. */
  validate(config: Partial<C>): C;
  /** Adds the network to `g`: `input` is [N, 3, H, W] in [0,1]; returns [N, 3, H*s, W*s]. */
  build(g: Graph, input: Value, config: C): Value;
  /** Upscale factor of the config. */
  scale(config: C): number;
  /** H and W of the input must be multiples of this (SwinIR: the window; callers pad). */
  inputMultiple(config: C): number;
  /** Checkpoint keys that are derived buffers we recompute (SwinIR's attn_mask...), not weights. */
  isDerivedBuffer(key: string): boolean;
  /** Input pixels of context per side (the tiler's overlap); absent where context spans the tile. */
  receptiveRadius?(config: C): number;
}
