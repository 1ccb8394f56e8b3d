import type { PlanarImage } from '../image/planar';
import { SessionCache } from '../runtime/cache';
import type { EvaluableModel } from '../zoo/evaluate';
import type { UpscaleModel } from './model';
import { upscaleImage } from './pipeline';
import { roundUp } from './tiler';

/**
 * Any UpscaleModel (a foreign or imported ONNX file without a zoo config) as the benchmark sees a
 * model: one pass over the whole image on the CPU (a fixed-shape graph is tiled at its shape).
 */
export function wholeImageModel(model: UpscaleModel, opts: { threads?: number } = {}): EvaluableModel & { release(): Promise<void> } {
  const sessions = new SessionCache(1);
  return {
    scale: model.scale,
    async upscale(img: PlanarImage): Promise<PlanarImage> {
      const side = roundUp(Math.max(img.width, img.height), model.inputMultiple);
      const { rgb } = await upscaleImage(img, undefined, {
        model,
        ep: 'cpu',
        tile: side,
        sessions,
        ...(opts.threads ? { threads: opts.threads } : {}),
      });
      return rgb;
    },
    release: () => sessions.clear(),
  };
}
