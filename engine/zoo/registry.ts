import type { Graph } from '../graph/graph';
import type { Value } from '../graph/value';
import { edsr, type EDSRConfig } from './edsr';
import { rrdbnet, type RRDBNetConfig } from './rrdbnet';
import { srvgg, type SRVGGConfig } from './srvgg';
import { swinir, type SwinIRConfig } from './swinir';
import type { ArchFamily } from './types';

/** Each family's own config type, keyed by the family name a config's `family` field holds. */
interface FamilyConfigs {
  edsr: EDSRConfig;
  swinir: SwinIRConfig;
  rrdbnet: RRDBNetConfig;
  srvgg: SRVGGConfig;
}

export type FamilyName = keyof FamilyConfigs;

/** A resolved model config: the family name plus that family's validated options. */
export type ModelConfig = { [F in FamilyName]: { family: F } & FamilyConfigs[F] }[FamilyName];

const FAMILIES: { readonly [F in FamilyName]: ArchFamily<FamilyConfigs[F]> } = { edsr, swinir, rrdbnet, srvgg };

export const FAMILY_NAMES = Object.keys(FAMILIES) as FamilyName[];

/** A family together with one config of it, so callers need not narrow the config union. */
export interface BoundArch {
  readonly config: ModelConfig;
  build(g: Graph, input: Value): Value;
  readonly scale: number;
  readonly inputMultiple: number;
  isDerivedBuffer(key: string): boolean;
  /** Input pixels of context per side; undefined where it spans the tile (SwinIR). */
  readonly receptiveRadius: number | undefined;
}

function bind<F extends FamilyName>(family: F, options: FamilyConfigs[F]): BoundArch {
  const arch = FAMILIES[family] as ArchFamily<FamilyConfigs[F]>;
  return {
    config: { family, ...options } as ModelConfig,
    build: (g, input) => arch.build(g, input, options),
    scale: arch.scale(options),
    inputMultiple: arch.inputMultiple(options),
    isDerivedBuffer: (key) => arch.isDerivedBuffer(key),
    receptiveRadius: arch.receptiveRadius?.(options),
  };
}

function isFamily(name: unknown): name is FamilyName {
  return typeof name === 'string' && Object.hasOwn(FAMILIES, name);
}

/**
 * Validates a config from anywhere (a preset, a model card, a JSON file) and binds it to its
 * family. Unknown families and bad options throw, naming the field.
 */
export function resolveArch(config: unknown): BoundArch {
  if (typeof config !== 'object' || config === null) throw new TypeError(`model config must be an object, got ${String(config)}`);
  const { family, ...options } = config as { family?: unknown };
  if (!isFamily(family)) throw new RangeError(`unknown model family ${JSON.stringify(family)}; known: ${FAMILY_NAMES.join(', ')}`);
  const arch = FAMILIES[family] as ArchFamily<FamilyConfigs[typeof family]>;
  return bind(family, arch.validate(options as Partial<FamilyConfigs[typeof family]>));
}

/** The validated, defaults-filled form of a config. */
export function validateConfig(config: unknown): ModelConfig {
  return resolveArch(config).config;
}
