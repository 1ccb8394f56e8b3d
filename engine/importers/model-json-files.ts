import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The files a TF.js `model.json` makes the importer read: the json itself and the weight shards
 * its manifest names. The names come from an untrusted file, so each must be a plain file name
 * beside model.json (no folders, `..`, absolute or Windows drive paths), and the file it names,
 * symlinks resolved, must still lie in model.json's folder.
 */

/** Why a shard path from the manifest is refused, or undefined when it is a plain file name. */
function shardPathProblem(p: string): string | undefined {
  if (p === '' || p === '.' || p === '..') return 'is not a file name';
  if (path.posix.isAbsolute(p) || path.win32.isAbsolute(p) || /^[A-Za-z]:/.test(p)) return 'is an absolute path';
  if (p.split(/[\\/]/).includes('..')) return 'leaves the model folder';
  if (/[\\/]/.test(p)) return 'names a folder';
  if (p.includes('\0')) return 'is not a file name';
  return undefined;
}

/** A manifest's shard path as given, or an error naming it and why it is refused. */
export function checkShardPath(p: unknown): string {
  const problem = typeof p === 'string' ? shardPathProblem(p) : 'is not a string';
  if (problem) throw new Error(`weight shard path ${JSON.stringify(p)} ${problem}: only file names beside model.json are read`);
  return p as string;
}

/** The real path of shard `name` in `dir` (both may be reached through links); an error when it is missing or leads elsewhere. */
export async function resolveShard(dir: string, name: string): Promise<{ file: string; size: number }> {
  const realDir = await realpath(dir);
  const file = await realpath(path.join(dir, checkShardPath(name))).catch(() => undefined);
  const st = file === undefined ? undefined : await stat(file).catch(() => undefined);
  if (!file || !st?.isFile()) throw new Error(`weight shard ${name} is missing (expected beside model.json in ${dir})`);
  if (path.dirname(file) !== realDir) throw new Error(`weight shard ${name} is a link that leads outside the model folder ${dir}`);
  return { file, size: st.size };
}

/** The `paths` of every weightsManifest group, each checked by checkShardPath. */
export function manifestShardPaths(doc: Readonly<Record<string, unknown>>): string[] {
  const groups = doc.weightsManifest;
  if (!Array.isArray(groups)) throw new Error('weightsManifest is missing');
  return groups.flatMap((g: unknown) => {
    const paths = (g as { paths?: unknown } | null)?.paths;
    if (!Array.isArray(paths)) throw new Error('weightsManifest entry needs paths and weights');
    return paths.map(checkShardPath);
  });
}

/** The parsed model.json, refused over `maxJsonBytes` before reading; errors say what is wrong, not which file. */
export async function readModelJson(file: string, maxJsonBytes: number): Promise<Record<string, unknown>> {
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot read (${e.code ?? e.message})`, { cause: e });
  });
  if (st.size > maxJsonBytes) throw new Error(`${st.size} bytes is over the ${maxJsonBytes}-byte limit for a model.json`);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
  return doc as Record<string, unknown>;
}

/** model.json and its shards, real paths: every file an import of it reads. */
export async function modelJsonFiles(modelJson: string, maxJsonBytes: number): Promise<string[]> {
  const file = await realpath(modelJson);
  const doc = await readModelJson(file, maxJsonBytes);
  const dir = path.dirname(file);
  const shards = await Promise.all(manifestShardPaths(doc).map((p) => resolveShard(dir, p)));
  return [file, ...shards.map((s) => s.file)];
}
