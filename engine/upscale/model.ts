import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { summarizeOnnx } from '../graph/onnx';
import { readImportMetadata } from '../importers/metadata';
import { loadStateDict } from '../io/checkpoint';
import { float32Tensor, type StateDict } from '../io/tensor';
import { ModelSession } from '../runtime/session';
import { bindWeights, exportOnnx } from '../zoo/build';
import { cardPathFor, isZooCard, readAnyCard, readCard, type ModelCard } from '../zoo/card';
import { exportDynamicOnnx, isSizeIndependent } from '../zoo/dynamic';
import { cardFromOnnx, weightsFromOnnx } from '../zoo/infer';
import { isPresetName, presetConfig } from '../zoo/presets';
import { resolveArch, type ModelConfig } from '../zoo/registry';

/**
 * What the upscaler needs of a model: its scale, the multiple its input sizes must be, how far
 * a pixel's context reaches (for exact tiling), and ONNX bytes for a given tile shape. Our own
 * models are rebuilt for any tile shape from config + weights; a foreign ONNX file runs at the
 * shape it declares (any shape when its H/W are symbolic).
 */
export interface UpscaleModel {
  /** Short name used in output file names and cache keys. */
  readonly id: string;
  readonly scale: number;
  readonly inputMultiple: number;
  /** Input pixels of context a pixel depends on (per side); undefined when not known. */
  readonly receptiveRadius?: number;
  /** 'any' (multiples of inputMultiple), or the one shape a static foreign graph accepts. */
  readonly shapes: 'any' | { readonly height: number; readonly width: number };
  /** True when one graph serves every shape (one session for all tile sizes). */
  readonly dynamic: boolean;
  readonly inputName: string;
  readonly outputName: string;
  onnxFor(height: number, width: number): Uint8Array;
  readonly config?: ModelConfig;
}

/** Folder of the shipped models (`models/` at the repository root). */
export const MODELS_DIR = resolve(import.meta.dirname, '../../models');

/** Shipped models the CLI picks by default, first present wins: the compact student, then the teacher. */
export const DEFAULT_MODEL_IDS = ['edsr-mini-x2', 'edsrmini-x2', 'edsr-mini', 'edsr-baseline-x2'] as const;

/** Input pixels of context per side, from the family; undefined where context spans the tile (SwinIR). */
export function receptiveRadius(config: ModelConfig): number | undefined {
  return resolveArch(config).receptiveRadius;
}

/** A zoo model from its config and (already bound) weights. */
export function modelFromWeights(id: string, config: ModelConfig, weights: StateDict): UpscaleModel {
  const arch = resolveArch(config);
  const dynamic = isSizeIndependent(arch.config);
  let dynamicBytes: Uint8Array | undefined;
  const radius = receptiveRadius(arch.config);
  return {
    id,
    scale: arch.scale,
    inputMultiple: arch.inputMultiple,
    ...(radius !== undefined ? { receptiveRadius: radius } : {}),
    shapes: 'any',
    dynamic,
    inputName: 'input',
    outputName: 'output',
    config: arch.config,
    onnxFor(height, width) {
      if (dynamic) return (dynamicBytes ??= exportDynamicOnnx(arch.config, weights));
      return exportOnnx(arch.config, weights, { height, width });
    },
  };
}

/** A preset (e.g. `edsr-mini`) with weights from a .pth/.safetensors checkpoint. */
export async function modelFromPreset(preset: string, weightsPath: string): Promise<UpscaleModel> {
  const config = presetConfig(preset);
  const weights = bindWeights(config, await loadStateDict(weightsPath));
  return modelFromWeights(preset, config, weights);
}

async function cardFor(path: string, bytes: Uint8Array): Promise<ModelCard | undefined> {
  const side = cardPathFor(path);
  if (existsSync(side)) {
    const card = await readAnyCard(side);
    // An imported foreign model's card has no config: the ONNX file itself is the model.
    if (isZooCard(card)) return card;
  }
  try {
    return cardFromOnnx(bytes);
  } catch {
    return undefined; // a foreign ONNX file: use what its interface declares
  }
}

/** Scale of a graph with symbolic H/W and no card: run a 16x16 input once on the CPU. */
async function measureScale(bytes: Uint8Array, inputName: string): Promise<number> {
  const session = await ModelSession.create(bytes, { ep: 'cpu' });
  try {
    const out = Object.values(await session.run({ [inputName]: float32Tensor([1, 3, 16, 16]) }))[0];
    return (out?.shape[2] ?? 0) / 16;
  } finally {
    await session.release();
  }
}

function idFromPath(path: string): string {
  return basename(path).replace(/\.onnx$/i, '');
}

/** An .onnx file: ours (card beside it or in its metadata) or foreign (input `[1,3,H,W]`, output `[1,3,sH,sW]`). */
export async function modelFromOnnxFile(path: string): Promise<UpscaleModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const summary = summarizeOnnx(bytes);
  const card = await cardFor(path, bytes);
  if (card && card.tile !== 'dynamic') return modelFromWeights(idFromPath(path), card.config, weightsFromOnnx(bytes, card.config));
  const input = summary.inputs[0];
  const output = summary.outputs[0];
  if (!input || !output || summary.inputs.length !== 1 || input.shape.length !== 4) {
    throw new Error(
      `${path}: expected one image input [N,3,H,W], found ${summary.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(', ')}`,
    );
  }
  const [, , h, w] = input.shape;
  const [, , oh] = output.shape;
  const fixed = typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0;
  // An imported model without a card still carries what its import measured.
  const imported = card ? undefined : readImportMetadata(summary.metadata);
  const scale =
    card?.scale ??
    imported?.scale ??
    (fixed && typeof oh === 'number' ? oh / h : await measureScale(bytes, input.name).catch(() => undefined));
  if (!scale || !Number.isInteger(scale))
    throw new Error(`${path}: cannot tell the model's scale (no model card beside it, and a 16x16 trial run failed)`);
  const radius = card ? receptiveRadius(card.config) : imported?.margin;
  return {
    id: idFromPath(path),
    scale,
    inputMultiple: card?.inputMultiple ?? imported?.inputMultiple ?? 1,
    ...(radius !== undefined ? { receptiveRadius: radius } : {}),
    shapes: fixed ? { height: h, width: w } : 'any',
    dynamic: !fixed,
    inputName: input.name,
    outputName: output.name,
    ...(card ? { config: card.config } : {}),
    onnxFor(height, width) {
      if (fixed && (height !== h || width !== w))
        throw new RangeError(`${path}: graph takes ${h}x${w} inputs only, asked for ${height}x${width}`);
      return bytes;
    },
  };
}

/** The shipped .onnx whose card says it was exported from `preset`, if any. */
async function shippedModelOfPreset(dir: string, preset: string): Promise<string | undefined> {
  if (!existsSync(dir)) return undefined;
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const onnx = join(dir, f.replace(/\.json$/, '.onnx'));
    if (!existsSync(onnx)) continue;
    const card = await readCard(join(dir, f)).catch(() => undefined);
    if (card?.preset === preset) return onnx;
  }
  return undefined;
}

export interface ModelRequest {
  /** A shipped model id, an .onnx path, or a preset name (with `weights`). */
  model?: string;
  weights?: string;
  modelsDir?: string;
  /** Total factor wanted: without `model`, a shipped native model of this scale (`edsr-mini-x4`) is preferred. */
  scale?: number;
}

/** The shipped compact model made for `scale` itself (one pass), if there is one. */
export function nativeModelId(scale: number, dir = MODELS_DIR): string | undefined {
  const id = `edsr-mini-x${scale}`;
  return scale !== 2 && existsSync(join(dir, `${id}.onnx`)) ? id : undefined;
}

/** Resolves the CLI's `-m` / `--weights`: shipped id, .onnx path, or preset + weights; default the shipped compact model. */
export async function resolveModel(req: ModelRequest): Promise<UpscaleModel> {
  const dir = req.modelsDir ?? MODELS_DIR;
  const m = req.model;
  if (m === undefined) {
    const native = req.scale !== undefined ? nativeModelId(req.scale, dir) : undefined;
    if (native) return modelFromOnnxFile(join(dir, `${native}.onnx`));
    const id = DEFAULT_MODEL_IDS.find((d) => existsSync(join(dir, `${d}.onnx`)));
    if (!id) throw new Error(`no shipped model in ${dir} (looked for ${DEFAULT_MODEL_IDS.map((d) => `${d}.onnx`).join(', ')}); pass -m`);
    const model = await modelFromOnnxFile(join(dir, `${id}.onnx`));
    const s = req.scale;
    let reach = model.scale;
    while (s !== undefined && reach < s) reach *= model.scale;
    if (s !== undefined && reach !== s) {
      // x3 from a x2 model: neither one pass nor repeated ones; say which model is missing.
      throw new RangeError(
        `x${s} needs a model of that scale: edsr-mini-x${s} is not in ${dir}, and ${id} (x${model.scale}) cannot make x${s} in passes; ` +
          `pass -m <an x${s} .onnx or imported model>, or use -s ${[1, 2, 3].map((k) => model.scale ** k).join('/')}`,
      );
    }
    return model;
  }
  if (req.weights !== undefined) {
    if (!isPresetName(m)) throw new Error(`--weights needs a preset name for -m, got ${JSON.stringify(m)}`);
    return modelFromPreset(m, req.weights);
  }
  if (/\.onnx$/i.test(m)) return modelFromOnnxFile(m);
  if (existsSync(join(dir, `${m}.onnx`))) return modelFromOnnxFile(join(dir, `${m}.onnx`));
  if (isPresetName(m)) {
    const shipped = await shippedModelOfPreset(dir, m);
    if (shipped) return modelFromOnnxFile(shipped);
    throw new Error(`preset ${m} needs --weights <checkpoint> (no shipped model in ${dir} was exported from it)`);
  }
  throw new Error(`unknown model ${JSON.stringify(m)}: not a shipped model in ${dir}, an .onnx file, or a preset with --weights`);
}
