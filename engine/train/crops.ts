import { Rng } from './rng';

/**
 * Random aligned crops with the 8 dihedral augmentations, as pure functions of (seed, step):
 * batch k is the same whether it is made in a worker, in the main thread, before or after a
 * resume. Images are planar uint8 (C x H x W) so that 291 training images fit in ~150 MB and
 * can be shared with a worker thread without copying.
 */

/** One training image: LR and HR (and optionally the teacher's output, HR-sized), planar uint8 RGB. */
export interface TrainImage {
  readonly name: string;
  /** LR size; HR (and teacher) are `scale` times larger. */
  readonly width: number;
  readonly height: number;
  readonly lr: Uint8Array;
  readonly hr: Uint8Array;
  readonly teacher?: Uint8Array;
}

export interface CropSpec {
  readonly batch: number;
  /** LR patch side; the HR patch is patch * scale. */
  readonly patch: number;
  readonly scale: number;
  /** Dihedral augmentation (flips and transposition); off gives identity crops. */
  readonly augment: boolean;
  readonly seed: number;
}

/** Batch tensors in NCHW float32 [0, 1]. */
export interface Batch {
  readonly step: number;
  readonly lr: Float32Array;
  readonly hr: Float32Array;
  readonly teacher?: Float32Array;
}

/** Stream id for batch sampling (other consumers of the seed use other ids). */
export const STREAM_BATCH = 1;

/** Where sample i of a step comes from. */
export interface CropPick {
  image: number;
  /** Top-left in LR pixels. */
  x: number;
  y: number;
  /** 0..7: bit 0 flips horizontally, bit 1 vertically, bit 2 transposes (BasicSR's hflip/vflip/rot90). */
  transform: number;
}

export function pickCrops(images: readonly Pick<TrainImage, 'width' | 'height'>[], spec: CropSpec, step: number): CropPick[] {
  const rng = Rng.seeded(spec.seed, STREAM_BATCH, step);
  const picks: CropPick[] = [];
  for (let i = 0; i < spec.batch; i++) {
    const image = rng.int(images.length);
    const { width, height } = images[image]!;
    if (width < spec.patch || height < spec.patch) {
      throw new RangeError(`training image ${image} is ${width}x${height} (LR), smaller than the patch ${spec.patch}`);
    }
    picks.push({
      image,
      x: rng.int(width - spec.patch + 1),
      y: rng.int(height - spec.patch + 1),
      transform: spec.augment ? rng.int(8) : 0,
    });
  }
  return picks;
}

/**
 * Copies a p x p window at (x0, y0) of a planar uint8 image into `out` at `offset` (3 x p x p
 * float32), applying the dihedral transform. The same transform at the LR and HR scale keeps
 * the patches aligned: flipping a patch of p*s pixels maps LR pixel u to HR block p-1-u.
 */
export function cropInto(
  src: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  p: number,
  transform: number,
  out: Float32Array,
  offset: number,
): void {
  const hflip = (transform & 1) !== 0;
  const vflip = (transform & 2) !== 0;
  const transpose = (transform & 4) !== 0;
  const plane = width * height;
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    const o = offset + c * p * p;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        let u = transpose ? j : i;
        let v = transpose ? i : j;
        if (vflip) u = p - 1 - u;
        if (hflip) v = p - 1 - v;
        out[o + i * p + j] = src[base + (y0 + u) * width + x0 + v]! / 255;
      }
    }
  }
}

export function makeBatch(images: readonly TrainImage[], spec: CropSpec, step: number): Batch {
  const { batch, patch: p, scale: s } = spec;
  const P = p * s;
  const lr = new Float32Array(batch * 3 * p * p);
  const hr = new Float32Array(batch * 3 * P * P);
  const withTeacher = images.length > 0 && images.every((im) => im.teacher);
  const teacher = withTeacher ? new Float32Array(batch * 3 * P * P) : undefined;
  pickCrops(images, spec, step).forEach((pick, i) => {
    const im = images[pick.image]!;
    cropInto(im.lr, im.width, im.height, pick.x, pick.y, p, pick.transform, lr, i * 3 * p * p);
    cropInto(im.hr, im.width * s, im.height * s, pick.x * s, pick.y * s, P, pick.transform, hr, i * 3 * P * P);
    if (teacher) cropInto(im.teacher!, im.width * s, im.height * s, pick.x * s, pick.y * s, P, pick.transform, teacher, i * 3 * P * P);
  });
  return teacher ? { step, lr, hr, teacher } : { step, lr, hr };
}
