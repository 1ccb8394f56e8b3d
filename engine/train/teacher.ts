import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write';
import { SessionCache } from '../runtime/cache';
import type { EpChoice } from '../runtime/select';
import type { SessionOptions } from '../runtime/session';
import { modelFromOnnxFile, modelFromPreset, type UpscaleModel } from '../upscale/model';
import { reachingPasses, upscaleImage } from '../upscale/pipeline';
import { planarFromUint8 } from './dataset';
import type { TeacherConfig } from './config';
import type { TrainImage } from './crops';

/**
 * The teacher-output cache for distillation: the teacher runs once per training image (through
 * the upscaler's tiled pass: whole images up to the tile size, larger ones tiled) and its output is
 * stored as planar uint8 in `<cacheDir>/teacher-v1/<teacher hash>/<LR hash>.bin`. Crops are then
 * taken from it aligned with the HR crop, so a distillation step costs what a plain step costs.
 * A teacher of a smaller scale that reaches the student's in passes (x2 twice for a x4 student)
 * runs them as `minisr upscale -s 4` does: an x4 teacher for free where only x2 weights are good.
 * The teacher is loaded only for the first output not on disk, so a run whose outputs are all
 * cached never parses its weights.
 */

const VERSION = 'teacher-v1';

export async function teacherHash(t: TeacherConfig): Promise<string> {
  const file = t.type === 'onnx' ? t.path : t.weights;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new Error(`teacher: cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  return createHash('sha256')
    .update(JSON.stringify(t.type === 'onnx' ? ['onnx'] : ['preset', t.preset]))
    .update(bytes)
    .digest('hex')
    .slice(0, 24);
}

export function loadTeacher(t: TeacherConfig): Promise<UpscaleModel> {
  return t.type === 'onnx' ? modelFromOnnxFile(t.path) : modelFromPreset(t.preset, t.weights);
}

/** The teacher, checked to reach the student's scale (in one pass or several). */
async function teacherFor(t: TeacherConfig, scale: number): Promise<UpscaleModel> {
  const model = await loadTeacher(t);
  if (reachingPasses(scale, model.scale) === undefined)
    throw new RangeError(`teacher is x${model.scale}, the student x${scale}: x${model.scale} passes cannot make x${scale}`);
  return model;
}

/**
 * The cached output of length `need` (3 x the student's pixels), under either name, so that the
 * teacher's own scale (what picks the name) need not be known before the teacher is loaded:
 * `<lr>-x<scale>.bin` is written only by a teacher of another scale run in passes, and `<lr>.bin`
 * at this length only by a teacher of this scale (the LR's hash fixes its size, so a one-pass
 * file of another scale has another length).
 */
async function readCached(base: string, scale: number, need: number): Promise<Uint8Array | undefined> {
  for (const file of [`${base}-x${scale}.bin`, `${base}.bin`]) {
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes?.length === need) return bytes;
  }
  return undefined;
}

/** Planar uint8 of the teacher's output, clamped and rounded as any 8-bit image is. */
function toUint8Shared(data: Float32Array): Uint8Array {
  const res = new Uint8Array(new SharedArrayBuffer(data.length));
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    res[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return res;
}

export interface TeacherCacheOptions {
  cacheDir: string;
  scale: number;
  session?: SessionOptions;
  /** Provider for the teacher's pass (default cpu); `auto` picks as the upscaler does. */
  ep?: EpChoice;
  /** Tile side for the teacher's pass (input pixels); default: the upscaler's automatic choice. */
  tile?: number;
  onProgress?: (done: number, total: number, computed: number) => void;
}

/** Returns the images with `teacher` filled, computing (and caching) only what is missing. */
export async function attachTeacherOutputs(
  images: readonly TrainImage[],
  t: TeacherConfig,
  opts: TeacherCacheOptions,
): Promise<TrainImage[]> {
  const dir = path.join(opts.cacheDir, VERSION, await teacherHash(t));
  await mkdir(dir, { recursive: true });
  let model: Promise<UpscaleModel> | undefined;
  const sessions = new SessionCache(2);
  const out: TrainImage[] = new Array(images.length);
  // Same-size images one after another: the tile sessions are reused.
  const order = [...images.keys()].sort((a, b) => images[a]!.height - images[b]!.height || images[a]!.width - images[b]!.width || a - b);
  let computed = 0;
  try {
    for (const [done, i] of order.entries()) {
      const im = images[i]!;
      const base = path.join(dir, createHash('sha256').update(im.lr).digest('hex').slice(0, 32));
      const need = 3 * im.width * im.height * opts.scale * opts.scale;
      const cached = await readCached(base, opts.scale, need);
      let teacher: Uint8Array;
      if (cached) {
        teacher = new Uint8Array(new SharedArrayBuffer(need));
        teacher.set(cached);
      } else {
        const m = await (model ??= teacherFor(t, opts.scale));
        // The upscaler's tiled pass: whole images up to the tile, exact tiling for models with a known receptive radius.
        const { rgb } = await upscaleImage(planarFromUint8(im.lr, im.width, im.height), undefined, {
          model: m,
          scale: opts.scale,
          ep: opts.ep ?? 'cpu',
          tile: opts.tile ?? 'auto',
          sessions,
          ...(opts.session?.threads ? { threads: opts.session.threads } : {}),
        });
        if (rgb.data.length !== need)
          throw new Error(
            `teacher output for ${im.name} is ${rgb.width}x${rgb.height}, expected x${opts.scale} of ${im.width}x${im.height}`,
          );
        teacher = toUint8Shared(rgb.data);
        // A teacher run in passes gets its own file names: the same LR may feed a one-pass run of it too.
        await writeFileAtomic(`${base}${m.scale === opts.scale ? '' : `-x${opts.scale}`}.bin`, teacher);
        computed++;
      }
      out[i] = { ...im, teacher };
      opts.onProgress?.(done + 1, images.length, computed);
    }
  } finally {
    await sessions.clear();
  }
  return out;
}
