/**
 * Index tables for SwinIR's (shifted) window attention, computed in TypeScript for the actual
 * feature size so that graphs carry them as constants instead of rebuilding them at run time.
 *
 * Token layouts: inside a residual group our graph keeps the tokens of [B, H*W, C] in
 * *window order* for a given shift s: the order torch gets from `roll(x, -s)` followed by
 * `window_partition` (windows row-major, then the tokens of a window row-major). Per-token ops
 * (LayerNorm, MLP, residual adds) do not care about token order, so moving between blocks costs
 * one Gather instead of roll + partition + reverse + roll back.
 */

export interface WindowGrid {
  readonly height: number;
  readonly width: number;
  readonly window: number;
}

/** Number of windows (nH * nW) and tokens per window (N). */
export function gridCounts(grid: WindowGrid): { windows: number; tokens: number; rows: number; cols: number } {
  const { height, width, window } = grid;
  if (height % window !== 0 || width % window !== 0) {
    throw new RangeError(`swinir: feature size ${height}x${width} is not a multiple of the window ${window}`);
  }
  const rows = height / window;
  const cols = width / window;
  return { windows: rows * cols, tokens: window * window, rows, cols };
}

/**
 * `order[k]` = raster index (y * W + x) of the token at position k of the window order for
 * `shift`: position k = ((wy * cols + wx) * window + iy) * window + ix holds the token of
 * rolled coordinates (wy * window + iy, wx * window + ix), i.e. original ((y + s) % H, (x + s) % W).
 */
export function windowOrder(grid: WindowGrid, shift: number): Int32Array {
  const { height, width, window } = grid;
  const { rows, cols } = gridCounts(grid);
  const order = new Int32Array(height * width);
  let k = 0;
  for (let wy = 0; wy < rows; wy++) {
    for (let wx = 0; wx < cols; wx++) {
      for (let iy = 0; iy < window; iy++) {
        for (let ix = 0; ix < window; ix++) {
          const y = (wy * window + iy + shift) % height;
          const x = (wx * window + ix + shift) % width;
          order[k++] = y * width + x;
        }
      }
    }
  }
  return order;
}

export function invertPermutation(p: Int32Array): Int32Array {
  const inv = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) inv[p[i]!] = i;
  return inv;
}

/**
 * Indices that take tokens from layout `from` to layout `to` (each given as its order array, raster
 * order being the identity): `out[k] = in[idx[k]]`.
 */
export function relayoutIndices(from: Int32Array | undefined, to: Int32Array | undefined, length: number): Int32Array {
  const inv = from ? invertPermutation(from) : undefined;
  const idx = new Int32Array(length);
  for (let k = 0; k < length; k++) {
    const raster = to ? to[k]! : k;
    idx[k] = inv ? inv[raster]! : raster;
  }
  return idx;
}

/**
 * The official `relative_position_index` buffer ([N, N] flattened): index into the
 * [(2w-1)^2, heads] bias table for every query/key pair of a window.
 */
export function relativePositionIndex(window: number): Int32Array {
  const n = window * window;
  const idx = new Int32Array(n * n);
  const span = 2 * window - 1;
  for (let i = 0; i < n; i++) {
    const [yi, xi] = [Math.floor(i / window), i % window];
    for (let j = 0; j < n; j++) {
      const [yj, xj] = [Math.floor(j / window), j % window];
      idx[i * n + j] = (yi - yj + window - 1) * span + (xi - xj + window - 1);
    }
  }
  return idx;
}

/**
 * The official `calculate_mask` for the actual size: [windows, N, N] with 0 where query and key come
 * from the same region of the rolled image and -100 elsewhere (windows in window order).
 */
export function shiftMask(grid: WindowGrid, shift: number): Float32Array {
  const { height, width, window } = grid;
  const { windows, tokens, cols } = gridCounts(grid);
  if (!(shift > 0 && shift < window)) throw new RangeError(`swinir: shift ${shift} must be in 1..${window - 1}`);
  // Region label of a rolled coordinate: 0 before -window, 1 in [-window, -shift), 2 in [-shift, end).
  const band = (p: number, size: number) => (p < size - window ? 0 : p < size - shift ? 1 : 2);
  const mask = new Float32Array(windows * tokens * tokens);
  const label = new Int32Array(tokens);
  for (let w = 0; w < windows; w++) {
    const [wy, wx] = [Math.floor(w / cols), w % cols];
    for (let t = 0; t < tokens; t++) {
      const y = wy * window + Math.floor(t / window);
      const x = wx * window + (t % window);
      label[t] = band(y, height) * 3 + band(x, width);
    }
    const base = w * tokens * tokens;
    for (let i = 0; i < tokens; i++) {
      for (let j = 0; j < tokens; j++) mask[base + i * tokens + j] = label[i] === label[j] ? 0 : -100;
    }
  }
  return mask;
}

/** Logit gap between tokens of different regions; the official mask adds -100. */
export const MASK_GAP = 100;

/**
 * The shift mask as a rank-2 term: per token a 2-vector e with q.k gaining e_i . e_j. Inside a
 * window at most four regions meet (before/after the shift line in y and in x); they get the
 * vectors sqrt(gap) * (cos a, sin a) at a = 0, 90, 180, 270 degrees, so same-region pairs gain
 * `gap` and others 0 or -gap: after softmax (shift-invariant per row) that equals the official
 * -100 mask up to terms below exp(-100). Windows with one region get zeros and stay exact.
 * Returns [batch * windows, groups, N, 2] (the same vectors repeated for each head group).
 */
export function shiftMaskEmbedding(grid: WindowGrid, shift: number, batch = 1, groups = 1, gap = MASK_GAP): Float32Array {
  const { height, width, window } = grid;
  const { windows, tokens, rows, cols } = gridCounts(grid);
  if (!(shift > 0 && shift < window)) throw new RangeError(`swinir: shift ${shift} must be in 1..${window - 1}`);
  const r = Math.sqrt(gap);
  const one = new Float32Array(windows * tokens * 2);
  for (let w = 0; w < windows; w++) {
    const [wy, wx] = [Math.floor(w / cols), w % cols];
    if (wy !== rows - 1 && wx !== cols - 1) continue;
    for (let t = 0; t < tokens; t++) {
      // Past the shift line: the last `shift` rows/columns of the rolled image wrapped around.
      const late = (p: number, size: number) => (p >= size - shift ? 1 : 0);
      const quadrant = 2 * late(wy * window + Math.floor(t / window), height) + late(wx * window + (t % window), width);
      const angle = (quadrant * Math.PI) / 2;
      one[(w * tokens + t) * 2] = r * Math.round(Math.cos(angle));
      one[(w * tokens + t) * 2 + 1] = r * Math.round(Math.sin(angle));
    }
  }
  const per = tokens * 2;
  const out = new Float32Array(batch * windows * groups * per);
  for (let i = 0; i < batch * windows; i++) {
    const src = one.subarray((i % windows) * per, ((i % windows) + 1) * per);
    for (let j = 0; j < groups; j++) out.set(src, (i * groups + j) * per);
  }
  return out;
}
