import { float32Tensor } from '../io/tensor';
import type { SessionCache } from '../runtime/cache';
import type { EpChoice, EpReport } from '../runtime/select';
import type { UpscaleModel } from './model';
import { planAxis, mirrorIndex, roundDown, roundUp, type AxisPlan } from './tiler';

/**
 * One x`model.scale` pass over an image, one band of tiles at a time: a band of input rows is
 * read, its tiles run and blended into an accumulator covering that band's output rows, and the
 * rows no later band touches are handed to the sink. Memory is a few bands, not the image.
 */

/** Rows of an image, read on demand (from a file region, or from memory). */
export interface BandSource {
  readonly width: number;
  readonly height: number;
  readonly hasAlpha: boolean;
  /** Rows [top, top + count), full width: RGB planes (3 x count x width) and the alpha plane. */
  read(top: number, count: number): Promise<{ rgb: Float32Array; alpha?: Float32Array }>;
}

/** Receives output rows top to bottom, interleaved (RGB or RGBA) float values, `width` pixels a row. */
export interface RowSink {
  write(rows: Float32Array, count: number): Promise<void>;
}

export interface TileShape {
  readonly height: number;
  readonly width: number;
}

export interface PassPlan {
  readonly tile: TileShape;
  /** Image size after padding (equal to the image unless it is smaller than a tile). */
  readonly padded: TileShape;
  readonly y: AxisPlan;
  readonly x: AxisPlan;
  readonly tiles: number;
}

export interface PassOptions {
  readonly model: UpscaleModel;
  readonly sessions: SessionCache;
  readonly ep: EpChoice;
  readonly threads?: number;
  /** Requested square tile side in input pixels (rounded down to the model's multiple). */
  readonly tile: number;
  /** Context per side; default: the model's receptive radius + 4 (else 16), at most a quarter tile. */
  readonly overlap?: number;
  readonly signal?: AbortSignal;
  /** Called after each tile with the pass's done/total count. */
  readonly onTile?: (done: number, total: number) => void;
}

export function defaultOverlap(model: UpscaleModel): number {
  return model.receptiveRadius !== undefined ? model.receptiveRadius + 4 : 16;
}

/** Tile shape and placement for an image: tiles lie inside the image; it is padded only when smaller than a tile. */
export function planPass(width: number, height: number, model: UpscaleModel, tile: number, overlapOption?: number): PassPlan {
  const m = model.inputMultiple;
  let shape: TileShape;
  if (model.shapes === 'any') {
    if (!Number.isInteger(tile) || tile < m) throw new RangeError(`tile must be an integer >= ${m}, got ${tile}`);
    const side = roundDown(tile, m);
    shape = { height: Math.min(side, roundUp(height, m)), width: Math.min(side, roundUp(width, m)) };
  } else {
    shape = model.shapes;
  }
  const padded = { height: Math.max(height, shape.height), width: Math.max(width, shape.width) };
  // Past a quarter tile, exactness costs more than it gains: a deep model's far context weighs little.
  const overlap = overlapOption ?? Math.min(defaultOverlap(model), Math.floor(Math.min(shape.height, shape.width) / 4));
  const axis = (length: number, t: number) =>
    planAxis({
      length,
      tile: t,
      // Overlap must leave a stride; with exact context each side this still blends exactly.
      overlap: Math.min(overlap, Math.floor((t - 1) / 2)),
      scale: model.scale,
      ...(model.receptiveRadius !== undefined ? { radius: Math.max(1, model.receptiveRadius) } : {}),
    });
  const y = axis(padded.height, shape.height);
  const x = axis(padded.width, shape.width);
  return { tile: shape, padded, y, x, tiles: y.starts.length * x.starts.length };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('upscale aborted', 'AbortError');
}

/** Rows [top, top+count) of the padded image (mirrored, edge repeated, where it extends past the source). */
async function readPaddedBand(
  src: BandSource,
  plan: PassPlan,
  top: number,
  count: number,
): Promise<{ rgb: Float32Array; alpha?: Float32Array }> {
  const { width: W, height: H } = src;
  const Wp = plan.padded.width;
  const inside = top + count <= H;
  const band = await src.read(inside ? top : 0, inside ? count : H);
  if (inside && Wp === W) return band;
  const rows = inside ? count : H;
  const pad = (plane: Float32Array, planes: number) => {
    const out = new Float32Array(planes * count * Wp);
    for (let c = 0; c < planes; c++) {
      for (let y = 0; y < count; y++) {
        const sy = inside ? y : mirrorIndex(top + y, H);
        const srcRow = (c * rows + sy) * W;
        const dstRow = (c * count + y) * Wp;
        for (let x = 0; x < Wp; x++) out[dstRow + x] = plane[srcRow + (x < W ? x : mirrorIndex(x, W))]!;
      }
    }
    return out;
  };
  return { rgb: pad(band.rgb, 3), ...(band.alpha ? { alpha: pad(band.alpha, 1) } : {}) };
}

function cropTile(plane: Float32Array, planes: number, bandW: number, bandH: number, left: number, tw: number): Float32Array {
  const out = new Float32Array(planes * bandH * tw);
  for (let c = 0; c < planes; c++) {
    for (let y = 0; y < bandH; y++) {
      const s = (c * bandH + y) * bandW + left;
      out.set(plane.subarray(s, s + tw), (c * bandH + y) * tw);
    }
  }
  return out;
}

/** Bilinear (half-pixel centres, edges clamped) upscale of one plane; alpha needs no model. */
function bilinear(plane: Float32Array, w: number, h: number, s: number): Float32Array {
  const ow = w * s;
  const oh = h * s;
  const out = new Float32Array(ow * oh);
  const coord = (o: number, n: number) => {
    const u = Math.min(n - 1, Math.max(0, (o + 0.5) / s - 0.5));
    const i = Math.min(n - 2, Math.floor(u));
    return i < 0 ? { i: 0, f: 0 } : { i, f: u - i };
  };
  const xs = Array.from({ length: ow }, (_, x) => coord(x, w));
  for (let y = 0; y < oh; y++) {
    const { i: y0, f: fy } = coord(y, h);
    const y1 = Math.min(h - 1, y0 + 1);
    for (let x = 0; x < ow; x++) {
      const { i: x0, f: fx } = xs[x]!;
      const x1 = Math.min(w - 1, x0 + 1);
      const top = plane[y0 * w + x0]! * (1 - fx) + plane[y0 * w + x1]! * fx;
      const bot = plane[y1 * w + x0]! * (1 - fx) + plane[y1 * w + x1]! * fx;
      out[y * ow + x] = top * (1 - fy) + bot * fy;
    }
  }
  return out;
}

/** Runs one pass; resolves with the provider report of the session used. */
export async function runPass(src: BandSource, sink: RowSink, opts: PassOptions): Promise<EpReport> {
  const { model } = opts;
  const s = model.scale;
  const plan = planPass(src.width, src.height, model, opts.tile, opts.overlap);
  const { tile } = plan;
  const C = src.hasAlpha ? 4 : 3;
  const accW = plan.padded.width * s; // accumulator row width (output pixels)
  const bandOutH = tile.height * s;
  const outW = src.width * s;
  const outH = src.height * s;
  const acc = new Float32Array(bandOutH * accW * C);
  let accTop = 0; // output row held in acc row 0
  let flushed = 0; // output rows handed to the sink

  const tileShape = [1, 3, tile.height, tile.width];
  const { session, report } = await opts.sessions.get(
    { model: model.id, ep: opts.ep, shape: model.dynamic ? [] : tileShape },
    () => model.onnxFor(tile.height, tile.width),
    { ...(opts.threads ? { threads: opts.threads } : {}), probe: { [model.inputName]: float32Tensor(tileShape) } },
  );

  const flushUntil = async (row: number) => {
    const end = Math.min(row, outH);
    if (end <= flushed) return;
    const count = end - flushed;
    const rows = new Float32Array(count * outW * C);
    for (let y = 0; y < count; y++) {
      const from = (flushed - accTop + y) * accW * C;
      rows.set(acc.subarray(from, from + outW * C), y * outW * C);
    }
    await sink.write(rows, count);
    flushed = end;
  };

  let done = 0;
  for (let j = 0; j < plan.y.starts.length; j++) {
    const py = plan.y.starts[j]!;
    // Rows above this band are final: flush them, then slide the rest to the top of acc.
    await flushUntil(py * s);
    const shift = (py * s - accTop) * accW * C;
    if (shift > 0) {
      acc.copyWithin(0, shift);
      acc.fill(0, acc.length - shift);
    }
    accTop = py * s;
    const band = await readPaddedBand(src, plan, py, tile.height);
    const wy = plan.y.weights[j]!;
    for (let i = 0; i < plan.x.starts.length; i++) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const px = plan.x.starts[i]!;
      const input = cropTile(band.rgb, 3, plan.padded.width, tile.height, px, tile.width);
      const result = await session.run({ [model.inputName]: float32Tensor(tileShape, input) });
      const out = result[model.outputName]!.data as Float32Array;
      const alpha = band.alpha
        ? bilinear(cropTile(band.alpha, 1, plan.padded.width, tile.height, px, tile.width), tile.width, tile.height, s)
        : undefined;
      const wx = plan.x.weights[i]!;
      const tw = tile.width * s;
      const plane = tw * bandOutH;
      if (out.length !== 3 * plane)
        throw new RangeError(`model ${model.id}: output has ${out.length} values, expected 3x${bandOutH}x${tw}`);
      for (let y = 0; y < bandOutH; y++) {
        const rowW = wy[y]!;
        if (rowW === 0) continue;
        const base = (y * accW + px * s) * C;
        for (let x = 0; x < tw; x++) {
          const w = rowW * wx[x]!;
          if (w === 0) continue;
          const a = base + x * C;
          const o = y * tw + x;
          acc[a] = acc[a]! + w * out[o]!;
          acc[a + 1] = acc[a + 1]! + w * out[plane + o]!;
          acc[a + 2] = acc[a + 2]! + w * out[2 * plane + o]!;
          if (alpha) acc[a + 3] = acc[a + 3]! + w * alpha[o]!;
        }
      }
      opts.onTile?.(++done, plan.tiles);
    }
  }
  await flushUntil(outH);
  return report;
}
