/**
 * Tile placement and blend weights along one axis. Tiles lie inside the image (the last one is
 * shifted back to end at the border, overlapping its neighbour more), so a tile edge that meets
 * the image border sees the same border as a whole-image pass. Between neighbours, each output
 * pixel is taken from tiles in which it lies at least `radius` input pixels away from the
 * tile's inner edge: there the tile computes exactly what the whole image would. The feathered
 * ramp between two neighbours lives inside the part both compute exactly, so blending is seamless
 * and, for a model whose receptive radius is <= `radius`, tiled == untiled.
 */

export interface AxisPlan {
  /** Length of the (possibly padded) axis the tiles cover, in input pixels. */
  readonly length: number;
  /** Tile extent in input pixels (all tiles on an axis have the same size). */
  readonly tile: number;
  /** Tile start positions, ascending; the last one ends at `length`. */
  readonly starts: readonly number[];
  /** Per tile, weights over its `tile * scale` output pixels; they sum to 1 at every output pixel. */
  readonly weights: readonly Float32Array[];
}

export interface AxisOptions {
  /** Axis length in input pixels (>= tile). */
  length: number;
  tile: number;
  /** Context each tile gets beyond the part it owns, per side, in input pixels. */
  overlap: number;
  /** Model output / input size. */
  scale: number;
  /**
   * Input pixels next to a tile's inner edge that a tile computes differently from a
   * whole-image pass (the model's receptive radius). Unknown: undefined (ramps over the middle
   * half of each shared stretch).
   */
  radius?: number;
}

export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`tileStarts: length must be a positive integer, got ${length}`);
  if (!Number.isInteger(tile) || tile < 1 || tile > length)
    throw new RangeError(`tileStarts: tile must be an integer in 1..${length}, got ${tile}`);
  const stride = tile - 2 * overlap;
  if (!Number.isInteger(overlap) || overlap < 0 || (stride < 1 && tile < length)) {
    throw new RangeError(`tileStarts: overlap ${overlap} leaves no stride in a tile of ${tile} (need overlap < tile/2)`);
  }
  const starts = [0];
  while (starts[starts.length - 1]! + tile < length) starts.push(Math.min(starts[starts.length - 1]! + stride, length - tile));
  return starts;
}

/** Weight at input coordinate `u` for the ramp rising over [lo, lo + width) (a step at lo if width is 0). */
function ramp(u: number, lo: number, width: number): number {
  if (width <= 0) return u >= lo ? 1 : 0;
  return Math.min(1, Math.max(0, (u - lo) / width));
}

export function planAxis(o: AxisOptions): AxisPlan {
  const starts = tileStarts(o.length, o.tile, o.overlap);
  const outTile = o.tile * o.scale;
  // Per neighbour pair: where the ramp starts and how wide it is (input coordinates).
  const seams = starts.slice(1).map((b0, i) => {
    const a1 = starts[i]! + o.tile;
    const shared = a1 - b0;
    const r = o.radius ?? shared / 4;
    const width = Math.max(0, shared - 2 * r);
    return { lo: b0 + (shared - width) / 2, width };
  });
  const raw = starts.map((start, i) => {
    const w = new Float32Array(outTile);
    for (let x = 0; x < outTile; x++) {
      const u = start + (x + 0.5) / o.scale; // the output pixel's centre in input coordinates
      const left = i > 0 ? ramp(u, seams[i - 1]!.lo, seams[i - 1]!.width) : 1;
      const right = i < seams.length ? 1 - ramp(u, seams[i]!.lo, seams[i]!.width) : 1;
      w[x] = Math.min(left, right);
    }
    return w;
  });
  // Normalise so the weights of all tiles covering an output pixel sum to 1 (three tiles can
  // meet near the shifted last tile).
  const sum = new Float64Array(o.length * o.scale);
  raw.forEach((w, i) => w.forEach((v, x) => (sum[starts[i]! * o.scale + x]! += v)));
  raw.forEach((w, i) => w.forEach((v, x) => (w[x] = v / sum[starts[i]! * o.scale + x]!)));
  return { length: o.length, tile: o.tile, starts, weights: raw };
}

/** Smallest multiple of `m` that is >= n. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Largest multiple of `m` that is <= n (at least m). */
export function roundDown(n: number, m: number): number {
  return Math.max(m, Math.floor(n / m) * m);
}

/**
 * Index into [0, n) mirrored at the ends with the edge repeated (numpy 'symmetric'), any
 * distance: the padding of SwinIR's official test script (a flipped copy appended), which the
 * zoo's whole-image inference uses too.
 */
export function mirrorIndex(i: number, n: number): number {
  const period = 2 * n;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}
