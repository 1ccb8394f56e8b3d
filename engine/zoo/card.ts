import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { validateConfig, type ModelConfig } from './registry';

/**
 * The model card: what an exported ONNX file is, stored twice: as JSON in the ONNX metadata
 * (key `minisr.card`) and as `<model>.json` beside the file, which also receives measured metrics.
 */
export interface ModelCard {
  readonly schema: typeof CARD_SCHEMA;
  readonly preset?: string;
  readonly config: ModelConfig;
  readonly scale: number;
  readonly params: number;
  /** FLOPs (2 x MACs of Conv/MatMul) for a 640x360 input and per megapixel of input. */
  readonly flops: { readonly at640x360: number; readonly perMegapixel: number };
  /** Input size the graph was built for; 'dynamic' when H and W are symbolic. */
  readonly tile: { readonly height: number; readonly width: number } | 'dynamic';
  /** Multiple that H and W must be (inputs are padded to it). */
  readonly inputMultiple: number;
  readonly weights?: { readonly file: string; readonly sha256: string };
  /** Benchmark results by set name (e.g. `Set5/x2`): Y-channel PSNR (dB) and SSIM means. */
  readonly metrics?: Readonly<Record<string, { readonly psnr: number; readonly ssim: number; readonly images: number }>>;
  /** One line for the model picker: what the model is for (e.g. clean scans vs phone and web photos). */
  readonly description?: string;
  /** Present on models brought in by `minisr import`: where they came from. */
  readonly imported?: ImportInfo;
}

/** What an imported model's card says of its origin. */
export interface ImportInfo {
  /** As a user would name it, e.g. 'RRDBNet (ESRGAN, BasicSR layout)'. */
  readonly architecture: string;
  readonly source: { readonly file: string; readonly sha256: string };
  /** Input pixels per side an input change spreads: the tiler's overlap. */
  readonly margin: number;
  /** Licence text found in or beside the source, if any. */
  readonly licence?: string;
}

/**
 * The card of an imported model outside the zoo's families (a Keras or foreign ONNX graph): no
 * config to rebuild it from, so the ONNX file is the model; FLOPs only where they were counted.
 */
export type ForeignCard = Omit<ModelCard, 'config' | 'preset' | 'flops' | 'imported'> & {
  readonly flops?: ModelCard['flops'];
  readonly imported: ImportInfo;
};

export type AnyCard = ModelCard | ForeignCard;

export function isZooCard(card: AnyCard): card is ModelCard {
  return (card as Partial<ModelCard>).config !== undefined;
}

export const CARD_SCHEMA = 'minisr.model-card/1';
export const CARD_METADATA_KEY = 'minisr.card';

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** `models/m.onnx` -> `models/m.json`. */
export function cardPathFor(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.json';
}

/** Checks a parsed card (from a file or ONNX metadata); errors name the bad field. */
export function parseCard(raw: unknown, source: string): ModelCard {
  if (typeof raw !== 'object' || raw === null) throw new TypeError(`${source}: model card must be a JSON object`);
  const c = raw as Record<string, unknown>;
  if (c.schema !== CARD_SCHEMA) throw new TypeError(`${source}: model card schema must be ${CARD_SCHEMA}, got ${JSON.stringify(c.schema)}`);
  const config = validateConfig(c.config);
  checkCommonFields(c, source);
  if (c.imported !== undefined) checkImportInfo(c.imported, source);
  return { ...(c as unknown as ModelCard), config };
}

/** A zoo card, or (without `config`) the card of an imported foreign model. */
export function parseAnyCard(raw: unknown, source: string): AnyCard {
  if (typeof raw !== 'object' || raw === null || (raw as { config?: unknown }).config !== undefined) return parseCard(raw, source);
  const c = raw as Record<string, unknown>;
  if (c.schema !== CARD_SCHEMA) throw new TypeError(`${source}: model card schema must be ${CARD_SCHEMA}, got ${JSON.stringify(c.schema)}`);
  if (c.imported === undefined) throw new TypeError(`${source}: model card has no config (and is not an imported model's card)`);
  checkCommonFields(c, source);
  checkImportInfo(c.imported, source);
  return c as unknown as ForeignCard;
}

function checkImportInfo(raw: unknown, source: string): void {
  const i = raw as Partial<Record<keyof ImportInfo, unknown>> | null;
  const src = i?.source as { file?: unknown; sha256?: unknown } | undefined;
  const ok =
    typeof i === 'object' &&
    i !== null &&
    typeof i.architecture === 'string' &&
    typeof src?.file === 'string' &&
    typeof src.sha256 === 'string' &&
    typeof i.margin === 'number' &&
    Number.isInteger(i.margin) &&
    i.margin >= 0 &&
    (i.licence === undefined || typeof i.licence === 'string');
  if (!ok) throw new TypeError(`${source}: model card field imported must be {architecture, source: {file, sha256}, margin, licence?}`);
}

function checkCommonFields(c: Record<string, unknown>, source: string): void {
  for (const field of ['scale', 'params', 'inputMultiple'] as const) {
    if (typeof c[field] !== 'number' || !Number.isInteger(c[field]) || (c[field] as number) < 1) {
      throw new TypeError(`${source}: model card field ${field} must be a positive integer`);
    }
  }
  const tile = c.tile;
  const tileOk =
    tile === 'dynamic' ||
    (typeof tile === 'object' &&
      tile !== null &&
      Number.isInteger((tile as { height?: unknown }).height) &&
      Number.isInteger((tile as { width?: unknown }).width));
  if (!tileOk) throw new TypeError(`${source}: model card field tile must be {height, width} or "dynamic"`);
}

export async function readCard(path: string): Promise<ModelCard> {
  return parseCard(await readCardJson(path), path);
}

/** A card beside any model in the models folder, imported foreign models' included. */
export async function readAnyCard(path: string): Promise<AnyCard> {
  return parseAnyCard(await readCardJson(path), path);
}

async function readCardJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read model card: ${(e as Error).message}`, { cause: e });
  }
}

export async function writeCard(path: string, card: ModelCard): Promise<void> {
  await writeFile(path, JSON.stringify(card, null, 2) + '\n');
}
