import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { probeImage } from '../image/decode';
import { ImageDecodeError } from '../image/errors';
import { ExecutionProviderError } from '../runtime/select';
import { extensionForFormat, isReadableExtension, outputFormatFor } from '../image/formats';
import { scaleLabel, upscaleFile, type FileUpscaleOptions, type UpscaleProgress, type UpscaleResult } from './pipeline';

/**
 * Many files and folders in one go: folders are scanned (optionally recursively, optionally
 * filtered by a glob), outputs mirror the input tree under the output folder, a bad file is
 * reported and the batch goes on, and the result is a summary of what succeeded, failed and
 * was skipped.
 */

export const DEFAULT_TEMPLATE = '{name}_{model}_x{scale}.{ext}';

export interface BatchOptions extends Omit<FileUpscaleOptions, 'onProgress' | 'onNotice'> {
  /** Output folder; absent: each output beside its input. */
  outDir?: string;
  recursive?: boolean;
  /** Glob on paths relative to the scanned folder (e.g. `**\/*.jpg`); explicit files always pass. */
  include?: string;
  template?: string;
  skipExisting?: boolean;
  onEvent?: (e: BatchEvent) => void;
}

export interface BatchItem {
  input: string;
  /** Folder the input was found in (its root for output mirroring), or undefined for an explicit file. */
  root?: string;
  /** Set when the item is known bad before decoding (a folder named like an image). */
  problem?: string;
}

export type BatchEvent =
  | { type: 'start'; index: number; total: number; input: string; output: string }
  | ({ type: 'progress'; index: number; total: number } & UpscaleProgress)
  | { type: 'done'; index: number; total: number; result: UpscaleResult }
  /** The work moved on (e.g. the GPU was lost: this file and the rest run on the CPU). */
  | { type: 'notice'; index: number; total: number; input: string; message: string }
  | { type: 'failed'; index: number; total: number; input: string; reason: string; code?: string }
  | { type: 'skipped'; index: number; total: number; input: string; output?: string; reason: string };

export interface BatchSummary {
  model: string;
  scale: number;
  scaleLabel: string;
  succeeded: {
    input: string;
    output: string;
    width: number;
    height: number;
    outWidth: number;
    outHeight: number;
    ep: string;
    seconds: number;
    megapixelsPerSec: number;
  }[];
  failed: { input: string; reason: string; code?: string }[];
  skipped: { input: string; output?: string; reason: string }[];
  cancelled: boolean;
  seconds: number;
}

async function scanFolder(
  root: string,
  recursive: boolean,
  match: ((rel: string) => boolean) | undefined,
  items: BatchItem[],
): Promise<void> {
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // hidden files and folders (.thumbnails, .git) are not the user's photos
      const path = join(dir, e.name);
      const rel = relative(root, path).split(sep).join('/');
      if (e.isDirectory()) {
        if (recursive) await walk(path);
        // A folder named like an image (`x.jpg/`) is what the user may think is a file: say so.
        else if (isReadableExtension(e.name) && (!match || match(rel)))
          items.push({ input: path, root, problem: 'is a directory, not an image file' });
        continue;
      }
      if (!isReadableExtension(e.name)) continue;
      if (match && !match(rel)) continue;
      items.push({ input: path, root });
    }
  };
  await walk(root);
}

/** Expands files and folders into the list of images to process (order kept, duplicates dropped). */
export async function collectInputs(paths: readonly string[], opts: { recursive?: boolean; include?: string } = {}): Promise<BatchItem[]> {
  const match = opts.include ? picomatch(opts.include, { dot: false, basename: !opts.include.includes('/') }) : undefined;
  const items: BatchItem[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory()) await scanFolder(resolve(p), opts.recursive ?? false, match, items);
    else items.push({ input: resolve(p) }); // missing or unreadable files fail with their own error later
  }
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.input) && seen.add(i.input));
}

/**
 * Output name from the template; `{ext}` is the output format's extension without the dot. The
 * template is the user's: one without `{name}` (every output the same name) or with a folder in it
 * is refused. The values are filled in one pass (a model id holding `{ext}` stays as it is), and
 * what the input's name or the model id bring that a file name cannot hold (separators, control
 * characters) becomes `_`.
 */
export function outputName(template: string, input: string, model: string, scale: number, ext: string): string {
  if (!template.includes('{name}')) throw new RangeError(`name template must contain {name}, got ${JSON.stringify(template)}`);
  if (/[/\\]/.test(template)) throw new RangeError(`name template ${JSON.stringify(template)}: a file name, not a path, is expected`);
  const values = { name: basename(input, extname(input)), model, scale: String(scale), ext };
  const out = template.replace(/\{(name|model|scale|ext)\}/g, (_, k: keyof typeof values) => values[k].replace(/[\\/\u0000-\u001f]/g, '_'));
  if (out === '.' || out === '..') throw new RangeError(`name template gives ${JSON.stringify(out)}: a file name is expected`);
  return out;
}

function outputDirFor(item: BatchItem, outDir: string | undefined): string {
  if (!outDir) return dirname(item.input);
  if (!item.root) return resolve(outDir);
  return join(resolve(outDir), relative(item.root, dirname(item.input))); // mirror the tree below the scanned folder
}

/** Where an item's output goes: probes the image for its format (throwing the engine's reason for a bad one). */
export async function plannedOutput(
  item: BatchItem,
  opts: { modelId: string; scale: number; format?: BatchOptions['format']; template?: string; outDir?: string },
): Promise<string> {
  if (item.problem) throw new Error(`${item.input}: ${item.problem}`);
  const info = await probeImage(item.input);
  const format = outputFormatFor(info.format, opts.format);
  const name = outputName(opts.template ?? DEFAULT_TEMPLATE, item.input, opts.modelId, opts.scale, extensionForFormat(format).slice(1));
  return join(outputDirFor(item, opts.outDir), name);
}

/** A failure as the batch summary reports it: the engine's message and, for unreadable images, its code. */
export function describeFailure(err: unknown): { reason: string; code?: string } {
  if (err instanceof ImageDecodeError) return { reason: err.message, code: err.code };
  const e = err as Error;
  return { reason: e?.message ?? String(err) };
}

export async function upscaleBatch(paths: readonly string[], opts: BatchOptions): Promise<BatchSummary> {
  const t0 = performance.now();
  const items = await collectInputs(paths, opts);
  const inputs = new Set(items.map((i) => i.input));
  const scale = opts.scale ?? opts.model.scale;
  const template = opts.template ?? DEFAULT_TEMPLATE;
  const summary: BatchSummary = {
    model: opts.model.id,
    scale,
    scaleLabel: scaleLabel(scale, opts.model.scale),
    succeeded: [],
    failed: [],
    skipped: [],
    cancelled: false,
    seconds: 0,
  };
  const claimed = new Map<string, string>(); // output -> the input that writes it
  const total = items.length;
  const emit = (e: BatchEvent) => opts.onEvent?.(e);

  for (const [index, item] of items.entries()) {
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      break;
    }
    const fail = (err: unknown) => {
      const d = describeFailure(err);
      summary.failed.push({ input: item.input, ...d });
      emit({ type: 'failed', index, total, input: item.input, ...d });
    };
    let output: string;
    try {
      output = await plannedOutput(item, { modelId: opts.model.id, scale, format: opts.format, template, outDir: opts.outDir });
    } catch (err) {
      fail(err);
      continue;
    }
    if (inputs.has(output)) {
      fail(new Error(`${item.input}: output ${output} would overwrite an input file`));
      continue;
    }
    const other = claimed.get(output);
    if (other) {
      fail(new Error(`${item.input}: output ${output} is also the output of ${other}`));
      continue;
    }
    claimed.set(output, item.input);
    if (opts.skipExisting && existsSync(output)) {
      summary.skipped.push({ input: item.input, output, reason: 'output exists' });
      emit({ type: 'skipped', index, total, input: item.input, output, reason: 'output exists' });
      continue;
    }
    emit({ type: 'start', index, total, input: item.input, output });
    try {
      await mkdir(dirname(output), { recursive: true });
      const result = await upscaleFile(item.input, output, {
        ...opts,
        onProgress: (p) => emit({ type: 'progress', index, total, ...p }),
        onNotice: (n) => emit({ type: 'notice', index, total, input: item.input, message: n.message }),
      });
      summary.succeeded.push({
        input: item.input,
        output: result.output,
        width: result.width,
        height: result.height,
        outWidth: result.outWidth,
        outHeight: result.outHeight,
        ep: result.ep.used,
        seconds: result.seconds,
        megapixelsPerSec: result.megapixelsPerSec,
      });
      emit({ type: 'done', index, total, result });
    } catch (err) {
      if (opts.signal?.aborted) {
        summary.cancelled = true;
        break;
      }
      // A provider that cannot run fails every file the same way: stop and say so once.
      if (err instanceof ExecutionProviderError) throw err;
      fail(err);
    }
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}
