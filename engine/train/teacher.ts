import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { float32Tensor } from '../io/tensor';
import { ModelSession, type SessionOptions } from '../runtime/session';
import { modelFromOnnxFile, modelFromPreset, type UpscaleModel } from '../upscale/model';
import type { TeacherConfig } from './config';
import type { TrainImage } from './crops';

/**
 * The teacher-output cache for distillation: the teacher runs once per training image (whole
 * image, graph built per image size, sizes grouped so sessions are reused) and its output is
 * stored as planar uint8 in `<cacheDir>/teacher-v1/<teacher hash>/<LR hash>.bin`. Crops are then
 * taken from it aligned with the HR crop, so a distillation step costs what a plain step costs.
 */

const VERSION = 'teacher-v1';

export async function teacherHash(t: TeacherConfig): Promise<string> {
  const file = t.type === 'onnx' ? t.path : t.weights;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new Error(`teacher: cannot read ${file}: ${(e as Error).message}`);
  }
  return createHash('sha256').update(JSON.stringify(t.type === 'onnx' ? ['onnx'] : ['preset', t.preset])).update(bytes).digest('hex').slice(0, 24);
}

export function loadTeacher(t: TeacherConfig): Promise<UpscaleModel> {
  return t.type === 'onnx' ? modelFromOnnxFile(t.path) : modelFromPreset(t.preset, t.weights);
}

function reflect(i: number, n: number): number {
  return i < n ? i : Math.max(0, 2 * n - 2 - i);
}

/** Runs the teacher on one LR image (mirror-padded to its multiple); output planar uint8, HR-sized. */
async function runTeacher(session: ModelSession, model: UpscaleModel, im: TrainImage, h: number, w: number): Promise<Uint8Array> {
  const input = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) input[(c * h + y) * w + x] = im.lr[(c * im.height + reflect(y, im.height)) * im.width + reflect(x, im.width)]! / 255;
  const out = (await session.run({ [model.inputName]: float32Tensor([1, 3, h, w], input) }, [model.outputName]))[model.outputName]!;
  const s = model.scale;
  const [W, H, OW] = [im.width * s, im.height * s, w * s];
  if (out.shape.join() !== [1, 3, h * s, OW].join()) throw new Error(`teacher output is [${out.shape.join(', ')}], expected [1, 3, ${h * s}, ${OW}]`);
  const data = out.data as Float32Array;
  const res = new Uint8Array(new SharedArrayBuffer(3 * W * H));
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = data[(c * h * s + y) * OW + x]!;
        res[(c * H + y) * W + x] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
      }
  return res;
}

export interface TeacherCacheOptions {
  cacheDir: string;
  scale: number;
  session?: SessionOptions;
  onProgress?: (done: number, total: number, computed: number) => void;
}

/** Returns the images with `teacher` filled, computing (and caching) only what is missing. */
export async function attachTeacherOutputs(images: readonly TrainImage[], t: TeacherConfig, opts: TeacherCacheOptions): Promise<TrainImage[]> {
  const dir = path.join(opts.cacheDir, VERSION, await teacherHash(t));
  await mkdir(dir, { recursive: true });
  let model: UpscaleModel | undefined;
  let sized: { key: string; session: ModelSession } | undefined;
  const out: TrainImage[] = new Array(images.length);
  // Same-size images one after another: one session per size.
  const order = [...images.keys()].sort((a, b) => images[a]!.height - images[b]!.height || images[a]!.width - images[b]!.width || a - b);
  let computed = 0;
  try {
    for (const [done, i] of order.entries()) {
      const im = images[i]!;
      const file = path.join(dir, `${createHash('sha256').update(im.lr).digest('hex').slice(0, 32)}.bin`);
      const need = 3 * im.width * im.height * opts.scale * opts.scale;
      const cached = await readFile(file).catch(() => undefined);
      let teacher: Uint8Array;
      if (cached?.length === need) {
        teacher = new Uint8Array(new SharedArrayBuffer(need));
        teacher.set(cached);
      } else {
        model ??= await loadTeacher(t);
        if (model.scale !== opts.scale) throw new RangeError(`teacher is x${model.scale}, the student x${opts.scale}`);
        const m = model.inputMultiple;
        let [h, w] = [Math.ceil(im.height / m) * m, Math.ceil(im.width / m) * m];
        if (model.shapes !== 'any' && model.dynamic === false) {
          if (model.shapes.height < h || model.shapes.width < w) {
            throw new RangeError(`teacher takes only ${model.shapes.height}x${model.shapes.width} inputs; image ${im.name} is ${im.height}x${im.width} (tiled teachers are not supported)`);
          }
          [h, w] = [model.shapes.height, model.shapes.width];
        }
        const key = model.dynamic ? 'dynamic' : `${h}x${w}`;
        if (sized?.key !== key) {
          await sized?.session.release();
          sized = { key, session: await ModelSession.create(model.onnxFor(h, w), opts.session) };
        }
        teacher = await runTeacher(sized.session, model, im, h, w);
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, teacher);
        await rename(tmp, file);
        computed++;
      }
      out[i] = { ...im, teacher };
      opts.onProgress?.(done + 1, images.length, computed);
    }
  } finally {
    await sized?.session.release();
  }
  return out;
}
