import type { ModelInfo } from '../../api/client';

/**
 * How the compare view's models reach its scale: in one pass of a native model, or in repeated
 * passes of a smaller one (the engine's rule: scale = model scale ^ passes).
 */

/** Passes of a x`modelScale` model for x`scale`; undefined where it cannot (an x4 model at x2). */
export function passesOf(scale: number, modelScale: number): number | undefined {
  if (!(modelScale >= 2)) return undefined;
  let passes = 1;
  for (let f = modelScale; f < scale; f *= modelScale) passes++;
  return modelScale ** passes === scale ? passes : undefined;
}

/** Whether a model can run at the compared scale; one of unknown scale (a foreign ONNX file) is left to the engine. */
export const offersScale = (m: ModelInfo, scale: number) => !(m.scale >= 2) || passesOf(scale, m.scale) !== undefined;

/** "native x4" for one pass of a x4 model, "2 × x2" for two passes of a x2 one; nothing at x2, where every model is native. */
export function passLabel(scale: number, modelScale: number, passes = passesOf(scale, modelScale)): string | undefined {
  if (scale <= 2 || passes === undefined) return undefined;
  return passes === 1 ? `native x${scale}` : `${passes} × x${modelScale}`;
}

/**
 * For a scale above 2 with a native model (e.g. `edsr-mini-x4`): that model and the x2 model it
 * is compared with, run twice — its own x2 sibling (`edsr-mini-x4-photo` → `edsr-mini-x2-photo`),
 * else `edsr-mini-x2`, else any compact x2 model.
 */
export function nativePair(models: readonly ModelInfo[], scale: number): { twoPass: string; native: string } | undefined {
  const natives = models.filter((m) => scale > 2 && m.scale === scale);
  const native = natives.find((m) => m.id === `edsr-mini-x${scale}`) ?? natives.find((m) => m.compact) ?? natives[0];
  if (!native) return undefined;
  const x2 = models.filter((m) => m.scale === 2 && passesOf(scale, 2) !== undefined);
  const sibling = native.id.replace(new RegExp(`-x${scale}(?=$|-)`), '-x2');
  const twoPass = x2.find((m) => m.id === sibling) ?? x2.find((m) => m.id === 'edsr-mini-x2') ?? x2.find((m) => m.compact);
  return twoPass && { twoPass: twoPass.id, native: native.id };
}
