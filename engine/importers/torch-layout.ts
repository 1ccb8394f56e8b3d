import { CheckpointError } from '../io/pth';
import type { StateDict } from '../io/tensor';
import type { ModelConfig } from '../zoo/registry';

/**
 * A PyTorch key layout we recognise: `matches` looks at the key names only; `convert` reads the
 * hyper-parameters from the tensors' shapes and renames the weights to our family's keys (the
 * zoo then binds them strictly, so a key or shape the layout did not foresee is an error).
 */
export interface TorchLayout {
  /** As a user would name it, e.g. 'RRDBNet (BasicSR)'. */
  readonly architecture: string;
  matches(sd: StateDict): boolean;
  convert(sd: StateDict): { config: ModelConfig; weights: StateDict };
}

/** The shape of `key`, or an error naming the key the layout needs. */
export function shapeOf(sd: StateDict, key: string): readonly number[] {
  const t = sd.get(key);
  if (!t) throw new CheckpointError(`missing tensor '${key}'`);
  return t.shape;
}

/** How many `${prefix}N${suffix}` keys there are for N = 0, 1, ... (stops at the first gap). */
export function countIndexed(sd: StateDict, prefix: string, suffix: string): number {
  let n = 0;
  while (sd.has(`${prefix}${n}${suffix}`)) n++;
  return n;
}

/** The state dict with each key renamed by `rename` (undefined drops the tensor). */
export function renameKeys(sd: StateDict, rename: (key: string) => string | undefined): StateDict {
  const out: StateDict = new Map();
  for (const [key, t] of sd) {
    const to = rename(key);
    if (to !== undefined) out.set(to, t);
  }
  return out;
}

/** The keys' leading names with counts, e.g. `conv_first (2), body (120)`: what an unknown file holds. */
export function keyPrefixes(sd: StateDict, limit = 12): string {
  const counts = new Map<string, number>();
  for (const key of sd.keys()) {
    const prefix =
      key
        .split('.')
        .slice(0, 2)
        .filter((p) => !/^\d+$/.test(p))
        .join('.') || key;
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  const items = [...counts].map(([p, n]) => `${p} (${n})`);
  return items.length > limit ? `${items.slice(0, limit).join(', ')}, ... (${items.length - limit} more)` : items.join(', ');
}
