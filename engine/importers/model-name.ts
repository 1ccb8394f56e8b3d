import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Default names for imported models. A model file names itself (`4x-foo.pth` -> `4x-foo`); a
 * `model.json` does not, so its npm package (package.json nearby) or the folders above it name
 * it, with the scale: `@upscalerjs/esrgan-slim/models/x2/model.json` -> `esrgan-slim-x2`.
 */

/**
 * Whether an import may read a file it merely looks for (a package.json or LICENSE near a
 * model.json): a front end's path allow-list says; a file it refuses is treated as absent.
 */
export type MayRead = (file: string) => Promise<boolean>;

const readIfAllowed = async (file: string, mayRead: MayRead) =>
  (await mayRead(file)) ? await readFile(file, 'utf8').catch(() => undefined) : undefined;

/**
 * The npm package a model.json ships in: the nearest package.json up to three folders above it,
 * with its LICENSE; only files `mayRead` allows are read (default: any).
 */
export async function packageAbove(
  modelJson: string,
  mayRead: MayRead = async () => true,
): Promise<{ name: string; dir: string; licence?: string } | undefined> {
  let dir = path.dirname(path.resolve(modelJson));
  for (let i = 0; i < 3; i++, dir = path.dirname(dir)) {
    const pkg = await readIfAllowed(path.join(dir, 'package.json'), mayRead);
    if (pkg === undefined) continue;
    let name: unknown;
    try {
      name = (JSON.parse(pkg) as { name?: unknown }).name;
    } catch {
      return undefined;
    }
    if (typeof name !== 'string' || name === '') return undefined;
    const licence = await readIfAllowed(path.join(dir, 'LICENSE'), mayRead);
    return { name, dir, ...(licence !== undefined ? { licence } : {}) };
  }
  return undefined;
}

/** Folder names that say nothing about which model lies inside. */
const GENERIC_FOLDERS = new Set([
  'model',
  'models',
  'dist',
  'tfjs',
  'weights',
  'files',
  'assets',
  'public',
  'src',
  'lib',
  'esm',
  'cjs',
  'umd',
]);

const isScaleWord = (s: string) => /^(x\d+|\d+x)$/i.test(s);

/**
 * The default name of a model imported from `file` (a model file, or the model.json a folder
 * stands for); `mayRead` as for packageAbove.
 */
export async function defaultModelName(file: string, scale: number, mayRead?: MayRead): Promise<string> {
  const base = path.basename(file);
  if (base !== 'model.json') return base.replace(/\.[^.]*$/, '');
  const dir = path.dirname(path.resolve(file));
  const pkg = await packageAbove(file, mayRead);
  let parts: string[];
  if (pkg) {
    const below = path.relative(pkg.dir, dir).split(path.sep).filter(Boolean);
    parts = [pkg.name.replace(/^@[^/]+\//, ''), ...below.filter((f) => !GENERIC_FOLDERS.has(f.toLowerCase()))];
  } else {
    // The nearest folder names up to the first that is neither generic nor a scale (`.../esrgan-slim/models/x2`).
    parts = [];
    for (let d = dir, i = 0; i < 4 && path.dirname(d) !== d; d = path.dirname(d), i++) {
      const name = path.basename(d);
      if (GENERIC_FOLDERS.has(name.toLowerCase())) continue;
      parts.unshift(name);
      if (!isScaleWord(name)) break;
    }
  }
  const words = parts.flatMap((p) => p.toLowerCase().split(/[-_. ]+/));
  if (!words.includes(`x${scale}`) && !words.includes(`${scale}x`)) parts.push(`x${scale}`);
  return parts.join('-');
}

/** `base`, else `base-2`, `base-3`, ...: the first id not `taken`. */
export async function uniqueModelId(base: string, taken: (id: string) => Promise<boolean>): Promise<string> {
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!(await taken(id))) return id;
  }
}

/** Whether `dir` already holds a model or card named `id`. */
export async function modelFileExists(dir: string, id: string): Promise<boolean> {
  const found = await Promise.all(
    ['.onnx', '.json'].map((ext) =>
      stat(path.join(dir, id + ext)).then(
        () => true,
        () => false,
      ),
    ),
  );
  return found.some(Boolean);
}
