import { decodeImage } from '../image/decode';
import { encodeToBuffer } from '../image/encode';
import { listPairs } from '../image/pairs';
import { imresizeBicubic } from '../image/resize';
import { evaluatePair, meanScore, type PairScore } from '../metrics/evaluate';
import type { ImageModel } from './infer';

export interface ImageResult extends PairScore {
  readonly name: string;
  /** Model time for this image (build and session creation included for static models). */
  readonly ms: number;
}

export interface SetResult {
  readonly dir: string;
  readonly scale: number;
  readonly images: readonly ImageResult[];
  readonly mean: PairScore;
}

/** What the benchmark needs of a model: zoo models (ImageModel) and, through the upscaler, imported ones. */
export type EvaluableModel = Pick<ImageModel, 'scale' | 'upscale'>;

/**
 * The SR papers' bicubic baseline as a model: the LR image upscaled by our MATLAB-compatible
 * `imresize` (float, edge pixels repeated), scored like any model's output.
 */
export function bicubicModel(scale: number): EvaluableModel {
  return { scale, upscale: async (img) => imresizeBicubic(img, scale) };
}

export interface EvaluateOptions {
  /** JPEG-compress each LR image at this quality first (photo robustness; the HR stays clean). */
  readonly lrJpeg?: number;
  /** Apply the model this many times (x4 as two passes of a x2 model); default 1. */
  readonly passes?: number;
  readonly onImage?: (r: ImageResult) => void;
}

/** The LR image as a JPEG at `quality` would decode (sharp: libjpeg-turbo, 4:2:0). */
async function jpegRoundTrip(file: string, quality: number): Promise<Awaited<ReturnType<typeof decodeImage>>> {
  const lr = await decodeImage(file);
  const { data } = await encodeToBuffer({ rgb: lr.rgb }, { format: 'jpeg', quality });
  return decodeImage(data);
}

/**
 * Super-resolves every LR image of a pair folder (`listPairs`: an unpaired image is an error) and
 * scores it against its HR image with the SR protocol (Y-channel PSNR/SSIM, `scale` pixels
 * cropped, output quantised to uint8).
 */
export async function evaluateSet(model: EvaluableModel, dir: string, opts: EvaluateOptions = {}): Promise<SetResult> {
  const passes = opts.passes ?? 1;
  if (!Number.isInteger(passes) || passes < 1) throw new RangeError(`passes must be an integer >= 1, got ${passes}`);
  const scale = model.scale ** passes;
  const images: ImageResult[] = [];
  for (const pair of await listPairs(dir)) {
    const [lr, hr] = await Promise.all([
      opts.lrJpeg !== undefined ? jpegRoundTrip(pair.lr, opts.lrJpeg) : decodeImage(pair.lr),
      decodeImage(pair.hr),
    ]);
    if (hr.width !== lr.width * scale || hr.height !== lr.height * scale) {
      throw new RangeError(`${pair.name}: HR ${hr.width}x${hr.height} is not x${scale} of LR ${lr.width}x${lr.height}`);
    }
    const t0 = performance.now();
    let sr = lr.rgb;
    for (let k = 0; k < passes; k++) sr = await model.upscale(sr);
    const ms = performance.now() - t0;
    const r = { name: pair.name, ...evaluatePair(sr, hr.rgb, scale), ms };
    images.push(r);
    opts.onImage?.(r);
  }
  return { dir, scale, images, mean: meanScore(images) };
}
