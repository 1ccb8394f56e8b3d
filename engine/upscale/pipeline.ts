import { randomBytes } from 'node:crypto';
import { freemem } from 'node:os';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { outputFormatFor, type OutputFormat } from '../image/formats';
import { exifForOutput } from '../image/metadata';
import type { PlanarImage } from '../image/planar';
import { float32Tensor } from '../io/tensor';
import { SessionCache } from '../runtime/cache';
import { isGpuLoss } from '../runtime/gpu-process';
import { isOutOfMemory, type EpChoice, type EpReport } from '../runtime/select';
import { fileBandSource, planarBandSource, planarSink, VipsFileSink } from './bands';
import type { UpscaleModel } from './model';
import { planPass, runPass, type BandSource, type RowSink } from './pass';
import { encodeVipsFile } from './write';

/**
 * Upscaling of one image: repeated x`model.scale` passes (x4 = two x2 passes), each tiled and
 * streamed band by band. Files are written atomically (temporary file, then rename), never over
 * the input; an abort stops within one tile and leaves nothing behind.
 */

export interface UpscaleProgress {
  file?: string;
  pass: number;
  passes: number;
  tilesDone: number;
  tilesTotal: number;
  /** Input megapixels (summed over passes) processed per second so far. */
  megapixelsPerSec: number;
  etaSec: number;
}

export interface UpscaleOptions {
  model: UpscaleModel;
  /** Total factor; a power of the model's scale. Default: the model's scale. */
  scale?: number;
  ep?: EpChoice;
  threads?: number;
  /** Square tile side in input pixels, or 'auto' (from the EP and free memory). */
  tile?: number | 'auto';
  overlap?: number;
  signal?: AbortSignal;
  onProgress?: (p: UpscaleProgress) => void;
  /** Sessions to reuse across images (a batch); default: one shared cache. */
  sessions?: SessionCache;
  /** Told when the work moves on: the GPU was lost and the image goes on on the CPU. */
  onNotice?: (n: UpscaleNotice) => void;
}

export interface UpscaleNotice {
  readonly file?: string;
  readonly kind: 'gpu-fallback';
  readonly message: string;
}

export interface FileUpscaleOptions extends UpscaleOptions {
  format?: OutputFormat | 'same';
  quality?: number;
  /** Keep 16 bits per channel for 16-bit sources written as PNG/TIFF (default true, as a photo editor expects; false reduces to 8). */
  keep16bit?: boolean;
  /** Copy ICC profile, EXIF (orientation reset to 1) and XMP; default true. */
  keepMetadata?: boolean;
  /** Inputs above this many pixels are read band by band (default WHOLE_DECODE_MAX_PIXELS). */
  wholeDecodeMaxPixels?: number;
}

export interface UpscaleResult {
  input: string;
  output: string;
  model: string;
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  scale: number;
  passes: number;
  /** e.g. "x2", or "x4 (2 passes of x2)". */
  scaleLabel: string;
  ep: EpReport;
  tile: number;
  format: OutputFormat;
  bitDepth: 8 | 16;
  bytes: number;
  seconds: number;
  megapixelsPerSec: number;
}

const sharedSessions = new SessionCache(4);

/** Number of model passes for a total factor, or undefined where a x`modelScale` model cannot make it (x3 from x2). */
export function reachingPasses(scale: number, modelScale: number): number | undefined {
  let passes = 0;
  for (let f = 1; f < scale && passes < 4; f *= modelScale) passes++;
  return modelScale ** passes === scale ? passes : undefined;
}

/** Number of model passes for a total factor, or a RangeError naming the factors on offer. */
export function passesFor(scale: number, modelScale: number): number {
  const passes = reachingPasses(scale, modelScale);
  if (passes === undefined) {
    const offered = [1, 2, 3].map((k) => modelScale ** k).join(', ');
    throw new RangeError(`scale ${scale} is not offered by a x${modelScale} model (use ${offered})`);
  }
  return passes;
}

export function scaleLabel(scale: number, modelScale: number): string {
  const passes = passesFor(scale, modelScale);
  return passes === 1 ? `x${scale}` : `x${scale} (${passes} passes of x${modelScale})`;
}

/**
 * Tile side from the EP and free memory. A tile's activations take about `features` floats a
 * pixel in several live buffers; GPUs like big tiles, CPUs gain little beyond 256.
 */
export function autoTile(model: UpscaleModel, ep: EpChoice, free = freemem()): number {
  if (model.shapes !== 'any') return model.shapes.height;
  const c = model.config;
  const features = c?.family === 'edsr' ? c.num_feat : c?.family === 'swinir' ? c.embed_dim * 4 : 64;
  const bytesPerPixel = 4 * features * 8 + 4 * 3 * model.scale ** 2 * 4;
  const budget = free / 4;
  const byMemory = Math.floor(Math.sqrt(budget / bytesPerPixel));
  const preferred = ep === 'cpu' || ep === 'auto' ? 256 : 512;
  const m = model.inputMultiple;
  return Math.max(m, Math.floor(Math.min(preferred, byMemory) / m) * m);
}

const MIN_TILE = 32;

/**
 * The provider `auto` will pick, when that is cheap to learn: a model with symbolic H/W has one
 * session for every tile size, so opening it now (cached) costs nothing extra.
 */
async function likelyEp(model: UpscaleModel, ep: EpChoice, sessions: SessionCache, threads: number | undefined): Promise<EpChoice> {
  if (ep !== 'auto' || !model.dynamic) return ep;
  const side = Math.ceil(64 / model.inputMultiple) * model.inputMultiple;
  const { report } = await sessions.get({ model: model.id, ep, shape: [] }, () => model.onnxFor(side, side), {
    ...(threads ? { threads } : {}),
    probe: { [model.inputName]: float32Tensor([1, 3, side, side]) },
  });
  return report.used;
}

/** Runs the passes: pass k reads what pass k-1 wrote; retries a pass with half the tile on out-of-memory. */
async function runPasses(
  first: BandSource,
  passes: number,
  makeSink: (pass: number, width: number, height: number, last: boolean) => Promise<RowSink & { done?: () => Promise<BandSource> }>,
  opts: UpscaleOptions,
  file: string | undefined,
): Promise<{ report: EpReport; tile: number; seconds: number; mp: number }> {
  const { model } = opts;
  const sessions = opts.sessions ?? sharedSessions;
  const ep = opts.ep ?? 'auto';
  // The GPU process died or its device was lost: the cache gives CPU sessions from now on, so
  // this image (its current pass again) and the rest of a batch go on on the CPU.
  let fellBack = false;
  const gpuLost = async (err: unknown): Promise<boolean> => {
    if (fellBack || !isGpuLoss(err)) return false;
    fellBack = true;
    const reason = await sessions.gpuLost(err);
    opts.onNotice?.({ ...(file ? { file } : {}), kind: 'gpu-fallback', message: `GPU lost (${reason}); continuing on the CPU` });
    return true;
  };
  let likely: EpChoice;
  try {
    likely = await likelyEp(model, ep, sessions, opts.threads);
  } catch (err) {
    if (!(await gpuLost(err))) throw err;
    likely = 'cpu';
  }
  let tile = opts.tile === undefined || opts.tile === 'auto' ? autoTile(model, likely) : opts.tile;
  const t0 = performance.now();
  const sizes = Array.from({ length: passes }, (_, k) => ({ w: first.width * model.scale ** k, h: first.height * model.scale ** k }));
  const totalMp = sizes.reduce((a, s) => a + (s.w * s.h) / 1e6, 0);
  let report: EpReport | undefined;
  let src = first;
  for (let k = 0; k < passes; k++) {
    for (;;) {
      const counts = sizes.map((s) => planPass(s.w, s.h, model, tile, opts.overlap).tiles);
      const total = counts.reduce((a, b) => a + b, 0);
      const before = counts.slice(0, k).reduce((a, b) => a + b, 0);
      const sink = await makeSink(k, src.width * model.scale, src.height * model.scale, k === passes - 1);
      try {
        report = await runPass(src, sink, {
          model,
          sessions,
          ep,
          tile,
          ...(opts.threads ? { threads: opts.threads } : {}),
          ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          onTile: (done) => {
            if (!opts.onProgress) return;
            const tilesDone = before + done;
            const sec = (performance.now() - t0) / 1000;
            const mpDone = (totalMp * tilesDone) / total;
            opts.onProgress({
              ...(file ? { file } : {}),
              pass: k + 1,
              passes,
              tilesDone,
              tilesTotal: total,
              megapixelsPerSec: sec > 0 ? mpDone / sec : 0,
              etaSec: tilesDone > 0 ? (sec * (total - tilesDone)) / tilesDone : Number.NaN,
            });
          },
        });
        if (sink.done) src = await sink.done();
        break;
      } catch (err) {
        if (await gpuLost(err)) continue; // the pass again, from its first tile
        const smaller = Math.floor(tile / 2 / model.inputMultiple) * model.inputMultiple;
        if (!isOutOfMemory(err) || model.shapes !== 'any' || smaller < Math.max(MIN_TILE, model.inputMultiple)) throw err;
        tile = smaller; // out of memory: drop the big-tile session and go again with half the tile
        await sessions.clear();
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { report: report!, tile, seconds, mp: totalMp };
}

/** Upscales an in-memory image (RGB planes, optional alpha) by `scale`. */
export async function upscaleImage(
  rgb: PlanarImage,
  alpha: PlanarImage | undefined,
  opts: UpscaleOptions,
): Promise<{ rgb: PlanarImage; alpha?: PlanarImage; ep: EpReport }> {
  const scale = opts.scale ?? opts.model.scale;
  const passes = passesFor(scale, opts.model.scale);
  let result: ReturnType<typeof planarSink> | undefined;
  const { report } = await runPasses(
    planarBandSource(rgb, alpha),
    passes,
    async (_k, w, h) => {
      const sink = planarSink(w, h, alpha !== undefined);
      result = sink;
      return { write: (r, c) => sink.write(r, c), done: async () => planarBandSource(sink.rgb, sink.alpha) };
    },
    opts,
    undefined,
  );
  return { rgb: result!.rgb, ...(result!.alpha ? { alpha: result!.alpha } : {}), ep: report };
}

/** Refuses an output path that is, or links to, the input. */
export async function assertNotInput(input: string, output: string): Promise<void> {
  const a = resolve(input);
  const b = resolve(output);
  if (a === b) throw new Error(`${output}: refusing to overwrite the input file`);
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  if (sa && sb && sa.dev === sb.dev && sa.ino === sb.ino)
    throw new Error(`${output}: refusing to overwrite the input file ${input} (same file)`);
}

function tempName(out: string, tag: string): string {
  return join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.${tag}`);
}

/**
 * Removes the temporary files an upscale of `output` left when its process was killed (`kill -9`
 * skips the cleanup). Only for a caller that knows no other process is writing `output` now.
 */
export async function removeStaleTemps(output: string): Promise<string[]> {
  const out = resolve(output);
  const prefix = `.${basename(out)}.`;
  const stale = (await readdir(dirname(out)).catch(() => [] as string[])).filter(
    (f) => f.startsWith(prefix) && /^[0-9a-f]{12}\.(pass\d+\.v|tmp)$/.test(f.slice(prefix.length)),
  );
  await Promise.all(stale.map((f) => rm(join(dirname(out), f), { force: true })));
  return stale;
}

/** Upscales an image file into `output` (format from `opts.format`, else kept from the input). */
export async function upscaleFile(input: string, output: string, opts: FileUpscaleOptions): Promise<UpscaleResult> {
  await assertNotInput(input, output);
  const { model } = opts;
  const scale = opts.scale ?? model.scale;
  const passes = passesFor(scale, model.scale);
  const src = await fileBandSource(input, {
    keep16bit: opts.keep16bit ?? true,
    ...(opts.wholeDecodeMaxPixels !== undefined ? { wholeDecodeMaxPixels: opts.wholeDecodeMaxPixels } : {}),
  });
  const meta = src.first;
  const format = outputFormatFor(meta.format, opts.format);
  const bitDepth: 8 | 16 = meta.bitDepth === 16 && (format === 'png' || format === 'tiff') ? 16 : 8;
  const channels = src.hasAlpha ? 4 : 3;
  const keep = opts.keepMetadata ?? true;
  const exif = keep && meta.exif ? exifForOutput(meta.exif, 1) : undefined;
  const out = resolve(output);
  const temps: string[] = [];
  const sinks: VipsFileSink[] = [];
  try {
    const run = await runPasses(
      src,
      passes,
      async (k, w, h, last) => {
        const path = tempName(out, `pass${k + 1}.v`);
        temps.push(path);
        // Intermediate passes keep 16 bits so the second pass does not see 8-bit rounding.
        const sink = await VipsFileSink.create(path, w, h, channels, last ? bitDepth : 16);
        sinks.push(sink);
        return {
          write: (r, c) => sink.write(r, c),
          done: async () => {
            await sink.finish(
              last
                ? {
                    ...(meta.iccProfile ? { icc: meta.iccProfile } : {}),
                    ...(exif ? { exif } : {}),
                    ...(keep && meta.xmp ? { xmp: meta.xmp } : {}),
                  }
                : {},
            );
            return last
              ? src
              : fileBandSource(path, {
                  keep16bit: true,
                  ...(opts.wholeDecodeMaxPixels !== undefined ? { wholeDecodeMaxPixels: opts.wholeDecodeMaxPixels } : {}),
                });
          },
        };
      },
      opts,
      input,
    );
    const finalV = temps[temps.length - 1]!;
    const tmpOut = tempName(out, 'tmp');
    temps.push(tmpOut);
    if (opts.signal?.aborted)
      throw opts.signal.reason instanceof Error ? opts.signal.reason : new DOMException('upscale aborted', 'AbortError');
    const enc = await encodeVipsFile(finalV, tmpOut, channels, {
      format,
      ...(opts.quality !== undefined ? { quality: opts.quality } : {}),
      bitDepth,
      keepIcc: meta.iccProfile !== undefined,
      keepExif: exif !== undefined,
      keepXmp: keep && meta.xmp !== undefined,
      ...(keep && meta.density ? { density: meta.density } : {}),
    });
    await assertNotInput(input, out); // the input could have been renamed onto `out` meanwhile
    await rename(tmpOut, out);
    temps.pop();
    return {
      input,
      output: out,
      model: model.id,
      width: src.width,
      height: src.height,
      outWidth: enc.width,
      outHeight: enc.height,
      scale,
      passes,
      scaleLabel: scaleLabel(scale, model.scale),
      ep: run.report,
      tile: run.tile,
      format,
      bitDepth,
      bytes: enc.bytes,
      seconds: run.seconds,
      megapixelsPerSec: run.mp / run.seconds,
    };
  } finally {
    await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
}
