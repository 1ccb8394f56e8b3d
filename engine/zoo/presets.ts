import type { EDSRConfig } from './edsr';
import type { SwinIRConfig } from './swinir';
import { validateConfig, type ModelConfig } from './registry';

/** Preset options before validation: each family fills its defaults (upscale 2 unless overridden). */
type PresetOptions = ({ family: 'edsr' } & Partial<EDSRConfig>) | ({ family: 'swinir' } & Partial<SwinIRConfig>);

const PRESETS = {
  /** EDSR-baseline of the EDSR paper: the teacher in our experiments. */
  'edsr-baseline': { family: 'edsr', num_feat: 64, num_block: 16, res_scale: 1 },
  /** The paper's compact student (49,603 parameters at x2). */
  'edsr-mini': { family: 'edsr', num_feat: 16, num_block: 8, res_scale: 2 },
  /** The full EDSR of the paper (official large weights). */
  'edsr-full': { family: 'edsr', num_feat: 256, num_block: 32, res_scale: 0.1 },
  'swinir-light': {
    family: 'swinir',
    embed_dim: 60,
    depths: [6, 6, 6, 6],
    num_heads: [6, 6, 6, 6],
    window_size: 8,
    mlp_ratio: 2,
    upsampler: 'pixelshuffledirect',
    img_range: 1,
  },
  /** The paper's compact SwinIR student (98,868 parameters at x2). */
  'swinir-mini': {
    family: 'swinir',
    embed_dim: 24,
    depths: [4, 4, 4],
    num_heads: [6, 6, 6],
    window_size: 8,
    mlp_ratio: 2,
    upsampler: 'pixelshuffledirect',
    img_range: 1,
  },
  /** Classical SwinIR (official large weights); its pixel-shuffle upsampler has 64 features. */
  'swinir-classical': {
    family: 'swinir',
    embed_dim: 180,
    depths: [6, 6, 6, 6, 6, 6],
    num_heads: [6, 6, 6, 6, 6, 6],
    window_size: 8,
    mlp_ratio: 2,
    upsampler: 'pixelshuffle',
    img_range: 1,
  },
} as const satisfies Record<string, PresetOptions>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/** A preset's validated config, x2 unless `scale` says otherwise; unknown names list the known ones. */
export function presetConfig(name: string, opts: { scale?: number } = {}): ModelConfig {
  if (!isPresetName(name)) throw new RangeError(`unknown preset ${JSON.stringify(name)}; known presets: ${PRESET_NAMES.join(', ')}`);
  const options: PresetOptions = PRESETS[name];
  return validateConfig(opts.scale === undefined ? options : { ...options, upscale: opts.scale });
}
