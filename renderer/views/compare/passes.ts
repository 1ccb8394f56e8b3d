import type { ModelInfo } from '../../api/client';
import { passesOf } from '../../components/scales';

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
