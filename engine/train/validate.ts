import { toOnnx } from '../graph/onnx';
import { float32Tensor, type HostTensor } from '../io/tensor';
import { evaluatePair, meanScore, type PairScore } from '../metrics/evaluate';
import { ModelSession, type SessionOptions } from '../runtime/session';
import { buildModel } from '../zoo/build';
import { resolveArch, type ModelConfig } from '../zoo/registry';
import type { TrainImage } from './crops';
import { planarFromUint8 } from './dataset';

/**
 * Benchmark validation during training: whole LR images through the model (graphs built per
 * image size with the parameters as inputs, so one session per size serves every validation),
 * then the SR protocol: output clamped and rounded to uint8, Y-channel PSNR/SSIM with `scale`
 * border pixels cropped, mean over images. Inputs are padded by edge mirroring to the family's
 * multiple and the output cropped back.
 */

export interface ValidationResult extends PairScore {
  images: number;
  perImage: { name: string; psnr: number; ssim: number }[];
}

/** Mirror-pads planes at the bottom/right to h x w (reflection without repeating the edge). */
function padPlanar(data: Float32Array, width: number, height: number, w: number, h: number): Float32Array {
  if (w === width && h === height) return data;
  const out = new Float32Array(3 * w * h);
  const reflect = (i: number, n: number) => (i < n ? i : Math.max(0, 2 * n - 2 - i));
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) {
      const sy = reflect(y, height);
      for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = data[(c * height + sy) * width + reflect(x, width)]!;
    }
  return out;
}

function cropPlanar(data: Float32Array, width: number, height: number, w: number, h: number): Float32Array {
  if (w === width && h === height) return data;
  const out = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) out.set(data.subarray((c * height + y) * width, (c * height + y) * width + w), (c * h + y) * w);
  return out;
}

export class Validator {
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  readonly scale: number;

  constructor(
    private readonly config: ModelConfig,
    private readonly images: readonly TrainImage[],
    private readonly sessionOptions: SessionOptions = {},
  ) {
    if (images.length === 0) throw new RangeError('Validator: no validation images');
    this.scale = resolveArch(config).scale;
  }

  /** Super-resolves every validation image with `weights` and scores it against its HR. */
  async evaluate(weights: ReadonlyMap<string, Float32Array>): Promise<ValidationResult> {
    const s = this.scale;
    const m = resolveArch(this.config).inputMultiple;
    const perImage: ValidationResult['perImage'] = [];
    for (const im of this.images) {
      const h = Math.ceil(im.height / m) * m;
      const w = Math.ceil(im.width / m) * m;
      const session = await this.sessionFor(h, w);
      const feeds: Record<string, HostTensor> = {
        input: float32Tensor([1, 3, h, w], padPlanar(planarFromUint8(im.lr, im.width, im.height).data, im.width, im.height, w, h)),
      };
      for (const [key, data] of weights) feeds[key] = float32Tensor(this.shapes!.get(key)!, data);
      const out = (await session.run(feeds, ['output'])).output!.data as Float32Array;
      const sr = {
        width: im.width * s,
        height: im.height * s,
        channels: 3,
        data: cropPlanar(out, w * s, h * s, im.width * s, im.height * s),
      };
      const score = evaluatePair(sr, planarFromUint8(im.hr, im.width * s, im.height * s), s);
      perImage.push({ name: im.name, ...score });
    }
    return { ...meanScore(perImage), images: perImage.length, perImage };
  }

  async release(): Promise<void> {
    for (const p of this.sessions.values()) await (await p).release();
    this.sessions.clear();
  }

  private shapes: Map<string, readonly number[]> | undefined;

  private sessionFor(h: number, w: number): Promise<ModelSession> {
    const key = `${h}x${w}`;
    let p = this.sessions.get(key);
    if (!p) {
      const { graph } = buildModel(this.config, { height: h, width: w });
      this.shapes ??= new Map([...graph.params].map(([k, v]) => [k, v.value.shape]));
      p = ModelSession.create(toOnnx(graph, { params: 'inputs' }), this.sessionOptions);
      this.sessions.set(key, p);
    }
    return p;
  }
}
