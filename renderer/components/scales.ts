import type { ModelInfo } from '../api/client';

/**
 * Which output scales the models reach and which model a view runs at a scale (the engine's rule:
 * scale = model scale ^ passes, so x3 needs a x3 model and an x4 model cannot make x2). A model
 * of unknown scale (a foreign ONNX file, scale 0) is left to the engine.
 */

/** The factors the app offers (the API's schema takes the same). */
export const SCALES = [2, 3, 4, 8] as const;

/** Passes of a x`modelScale` model for x`scale`; undefined where it cannot (an x4 model at x2). */
export function passesOf(scale: number, modelScale: number): number | undefined {
  if (!(modelScale >= 2)) return undefined;
  let passes = 1;
  for (let f = modelScale; f < scale; f *= modelScale) passes++;
  return modelScale ** passes === scale ? passes : undefined;
}

/** Whether a model can run at a scale; one of unknown scale is left to the engine. */
export const offersScale = (m: ModelInfo, scale: number) => !(m.scale >= 2) || passesOf(scale, m.scale) !== undefined;

/** "x2", "x3" for one pass; "x4 (2× x2 passes)" for repeated passes of a x`modelScale` model. */
export function scaleLabel(scale: number, modelScale = 2): string {
  const passes = passesOf(scale, modelScale) ?? 1;
  return passes <= 1 ? `x${scale}` : `x${scale} (${passes}× x${modelScale} passes)`;
}

/** "native x4" for one pass of a x4 model, "2 × x2" for two passes of a x2 one; nothing at x2, where every model is native. */
export function passLabel(scale: number, modelScale: number, passes = passesOf(scale, modelScale)): string | undefined {
  if (scale <= 2 || passes === undefined) return undefined;
  return passes === 1 ? `native x${scale}` : `${passes} × x${modelScale}`;
}

/** The scales some listed model reaches (x3 only with a x3 model); before models load, what x2 reaches. */
export function reachableScales(models: readonly ModelInfo[]): number[] {
  const bases = models.filter((m) => m.scale >= 2).map((m) => m.scale);
  return SCALES.filter((s) => (bases.length ? bases : [2]).some((b) => passesOf(s, b) !== undefined));
}

/** `edsr-mini-x2-photo` at x4 → `edsr-mini-x4-photo`: the same model made for another scale. */
const siblingId = (m: ModelInfo, scale: number) => m.id.replace(new RegExp(`-x${m.scale}(?=$|-)`), `-x${scale}`);

/**
 * The model to preselect when a view's scale becomes `scale`: a native model of that scale
 * (`chosen` itself, its sibling, `edsr-mini-x<scale>`, a compact one, any) where one is listed;
 * else `chosen` where it reaches the scale in passes, else a compact model that does.
 */
export function modelForScale(models: readonly ModelInfo[], scale: number, chosen?: string): string | undefined {
  const current = models.find((m) => m.id === chosen);
  const natives = models.filter((m) => m.scale === scale);
  const native =
    (current && natives.find((m) => m.id === current.id || m.id === siblingId(current, scale))) ??
    natives.find((m) => m.id === `edsr-mini-x${scale}`) ??
    natives.find((m) => m.compact) ??
    natives[0];
  if (native) return native.id;
  if (current && offersScale(current, scale)) return current.id;
  const reach = models.filter((m) => offersScale(m, scale));
  return (reach.find((m) => m.compact) ?? reach[0])?.id;
}

/**
 * What a view with a model and scale menu runs: the scale it holds if some model reaches it
 * (else the first that one does), the model it holds if that reaches the scale (else the one
 * `modelForScale` picks), the models to offer at that scale, and each scale's label told by
 * the model that would run it.
 */
export function scaleChoice(models: readonly ModelInfo[], held: { scale: number; modelId?: string }) {
  const scales = reachableScales(models);
  const scale = scales.includes(held.scale) ? held.scale : (scales[0] ?? 2);
  const offered = models.filter((m) => offersScale(m, scale));
  const modelId = offered.some((m) => m.id === held.modelId) ? held.modelId : modelForScale(models, scale, held.modelId);
  const runs = (s: number) => models.find((m) => m.id === (s === scale ? modelId : modelForScale(models, s, modelId)));
  const label = (s: number) => scaleLabel(s, runs(s)?.scale || 2);
  return { scales, scale, offered, modelId, label };
}
