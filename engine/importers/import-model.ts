import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { summarizeOnnx } from '../graph/onnx';
import { importKeras } from './keras';
import { DEFAULT_KERAS_LIMITS } from './keras-model';
import { modelJsonFiles } from './model-json-files';
import { defaultModelName, modelFileExists, uniqueModelId, type MayRead } from './model-name';
import { importOnnxBytes } from './onnx-upscaler';
import { detectFormat } from '../io/checkpoint';
import { CARD_METADATA_KEY, CARD_SCHEMA, cardPathFor, type AnyCard, type ForeignCard, type ImportInfo } from '../zoo/card';
import { modelCost } from '../zoo/count';
import { importTorch } from './pth';
import type { ImportedGraph } from './types';

const { onnx } = onnxProto;

/**
 * The import pipeline: finds what a file or folder holds by its content (never its extension),
 * hands it to that format's importer, and writes the ONNX model and its card into the user's
 * models folder, where every model picker finds it. Nothing is written unless the import
 * succeeds, and an existing model is never replaced.
 */

export interface ImportOptions {
  /** Value range the model expects (foreign ONNX files that do not say): 1 for [0,1], 255 for [0,255]. */
  readonly range?: 1 | 255;
  /**
   * Whether a file the import only looks for may be read (a model.json's package.json and
   * LICENSE, which name it and give its licence); one refused is treated as absent. Default: any.
   */
  readonly mayRead?: MayRead;
}

/**
 * One importable format: `sniff` looks at the file's first bytes, `run` makes the graph, and
 * `reads` lists the files besides the source that `run` will read (paths the file names).
 */
interface FormatImporter {
  readonly format: string;
  sniff(head: Uint8Array): boolean;
  run(file: string, bytes: Uint8Array, opts: ImportOptions): Promise<ImportedGraph>;
  reads?(file: string): Promise<string[]>;
}

const IMPORTERS: readonly FormatImporter[] = [
  {
    format: 'PyTorch/safetensors checkpoint',
    sniff: (head) => {
      try {
        detectFormat(head);
        return true;
      } catch {
        return false;
      }
    },
    run: (_file, bytes) => importTorch(bytes),
  },
  {
    // TF.js layers model.json (UpscalerJS): JSON text; its weight shards are read beside it.
    format: 'UpscalerJS/Keras model.json',
    sniff: (head) => /^\s*\{/.test(Buffer.from(head).toString('latin1')),
    run: (file, _bytes, opts) =>
      importKeras(file, { ...(opts.range ? { range: opts.range } : {}), ...(opts.mayRead ? { mayRead: opts.mayRead } : {}) }),
    reads: (file) => modelJsonFiles(file, DEFAULT_KERAS_LIMITS.maxJsonBytes),
  },
  {
    // A ModelProto starts with field 1 (ir_version, varint): byte 0x08.
    format: 'ONNX model',
    sniff: (head) => head[0] === 0x08,
    run: (_file, bytes, opts) => importOnnxBytes(bytes, opts.range ? { range: opts.range } : {}),
  },
];

/** Largest source file read (the full EDSR is 160 MB, RRDBNet x4 67 MB). */
export const MAX_SOURCE_BYTES = 2 ** 31;

export interface ImportRequest extends ImportOptions {
  /** A .pth/.pt/.safetensors/.onnx file, a model.json, or a folder holding model.json. */
  readonly source: string;
  /** The user's models folder (created if absent). */
  readonly modelsDir: string;
  /** Model id (file name without .onnx); default: the source's name (see defaultModelName), made unique. */
  readonly name?: string;
  /** Model ids in use besides the files in `modelsDir` (e.g. the shipped models): a default name avoids them. */
  readonly existingIds?: ReadonlySet<string>;
  readonly maxBytes?: number;
}

export interface ImportResult {
  readonly id: string;
  readonly modelPath: string;
  readonly cardPath: string;
  readonly card: AnyCard;
}

export class ImportError extends Error {
  override name = 'ImportError';
}

/** The importer for the file's content, or a clear error naming what was found. */
function importerFor(file: string, head: Uint8Array): FormatImporter {
  const importer = IMPORTERS.find((i) => i.sniff(head.subarray(0, 64)));
  if (importer) return importer;
  const hex = Buffer.from(head.subarray(0, 8)).toString('hex');
  throw new ImportError(
    `${file}: not a model file we can import (first bytes ${hex}); formats: ${IMPORTERS.map((i) => i.format).join(', ')}`,
  );
}

/** An importer's error as one message that names the source once (importers say what is wrong, not where). */
function importError(file: string, e: unknown): ImportError {
  return new ImportError(`${file}: ${(e as Error).message}`, { cause: e });
}

/**
 * Every file an import of `source` reads: the model file, and for a model.json the weight shards
 * it names (real paths, each checked to lie beside it). Front ends check these against what the
 * user allowed before importing.
 */
export async function importSourceFiles(source: string): Promise<string[]> {
  const file = await sourceFile(source);
  const handle = await open(file, 'r').catch((e: unknown) => {
    throw importError(file, new Error(`cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`));
  });
  const head = new Uint8Array(64);
  try {
    await handle.read(head, 0, 64, 0);
  } finally {
    await handle.close();
  }
  const importer = importerFor(file, head);
  if (!importer.reads) return [file];
  try {
    return await importer.reads(file);
  } catch (e) {
    throw importError(file, e);
  }
}

export async function importModel(req: ImportRequest): Promise<ImportResult> {
  const file = await sourceFile(req.source);
  const size = (await stat(file)).size;
  const max = req.maxBytes ?? MAX_SOURCE_BYTES;
  if (size > max) throw new ImportError(`${file}: ${size} bytes is over the ${max}-byte limit for a model file`);
  const bytes = await readFile(file);
  const importer = importerFor(file, bytes);
  let graph: ImportedGraph;
  try {
    graph = await importer.run(file, bytes, req);
  } catch (e) {
    throw importError(file, e);
  }
  const taken = async (id: string) => req.existingIds?.has(id) === true || (await modelFileExists(req.modelsDir, id));
  const id =
    req.name !== undefined
      ? modelId(req.name)
      : await uniqueModelId(modelId(await defaultModelName(file, graph.scale, req.mayRead)), taken);
  const card = cardOf(graph, { file: path.basename(file), sha256: createHash('sha256').update(bytes).digest('hex') });
  const modelPath = path.join(req.modelsDir, `${id}.onnx`);
  const cardPath = cardPathFor(modelPath);
  await mkdir(req.modelsDir, { recursive: true });
  await writeNew([
    [cardPath, JSON.stringify(card, null, 2) + '\n'],
    [modelPath, withCard(graph.onnx, card)],
  ]);
  return { id, modelPath, cardPath, card };
}

/** A folder stands for the model.json inside it (an UpscalerJS model folder). */
async function sourceFile(source: string): Promise<string> {
  let s;
  try {
    s = await stat(source);
  } catch (e) {
    throw new ImportError(`${source}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  if (!s.isDirectory()) return source;
  const json = path.join(source, 'model.json');
  if (!(await stat(json).catch(() => undefined))?.isFile()) throw new ImportError(`${source}: a folder without model.json`);
  return json;
}

/** A file name that is safe on every platform: letters, digits, `.`, `_`, `-`. */
function modelId(name: string): string {
  const id = name
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '');
  if (!id) throw new ImportError(`model name ${JSON.stringify(name)} has no usable characters (letters, digits, . _ -)`);
  return id;
}

function cardOf(g: ImportedGraph, source: ImportInfo['source']): AnyCard {
  const imported: ImportInfo = { architecture: g.architecture, source, margin: g.margin, ...(g.licence ? { licence: g.licence } : {}) };
  const [, , h, w] = summarizeOnnx(g.onnx).inputs[0]?.shape ?? [];
  const tile = typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? { height: h, width: w } : ('dynamic' as const);
  const common: ForeignCard = { schema: CARD_SCHEMA, scale: g.scale, params: g.params, tile, inputMultiple: g.inputMultiple, imported };
  if (!g.config) return common;
  const cost = modelCost(g.config);
  return { ...common, config: g.config, flops: { at640x360: cost.flops640x360, perMegapixel: cost.flopsPerMegapixel } };
}

/** The card in the ONNX metadata too, so the file alone is a complete model. */
function withCard(bytes: Uint8Array, card: AnyCard): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const entry = onnx.StringStringEntryProto.create({ key: CARD_METADATA_KEY, value: JSON.stringify(card) });
  model.metadataProps = [...model.metadataProps.filter((p) => p.key !== CARD_METADATA_KEY), entry];
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Writes each file to a temporary name, then links it into place, which fails rather than
 * replace an existing file; on any error every file this call placed is removed again.
 */
async function writeNew(files: readonly (readonly [string, string | Uint8Array])[]): Promise<void> {
  const placed: string[] = [];
  const temps: string[] = [];
  try {
    for (const [target, data] of files) {
      const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      temps.push(tmp);
      await writeFile(tmp, data);
      try {
        await link(tmp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new ImportError(`${target} already exists: choose another name (--name)`, { cause: e });
        }
        throw e;
      }
      placed.push(target);
    }
  } catch (e) {
    await Promise.all(placed.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  } finally {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
  }
}
