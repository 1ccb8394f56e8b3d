import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import picomatch from 'picomatch';
import { formatFromExtension, isReadableExtension } from '../image/formats';
import type { PathPolicy } from './paths';
import type { BatchTask } from './tasks';
import type { BatchRequest } from './types';

/**
 * What a batch request covers, as the job worker wants it: chosen files as they are, folders
 * walked for readable images (each path checked against the allow-list), and for each file its
 * output below the output folder, mirroring the input tree.
 */

/** `{name}_{model}_x{scale}.{ext}` with the given values; what remains unsafe becomes `_`. */
export function outputName(template: string, v: { name: string; model: string; scale: number; ext: string }): string {
  const name = template.replace(/\{(name|model|scale|ext)\}/g, (_, k: keyof typeof v) => String(v[k]));
  return name.replace(/[\\/\u0000-\u001f]/g, '_');
}

/** The files a batch covers, with their paths relative to the folder they were found in. */
async function expand(req: BatchRequest, paths: PathPolicy): Promise<{ input: string; rel: string }[]> {
  const match = req.glob ? picomatch(req.glob, { basename: !req.glob.includes('/'), dot: false }) : undefined;
  const out: { input: string; rel: string }[] = [];
  const walk = async (dir: string, root: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory() && req.recursive) await walk(p, root);
      else if (e.isFile() && isReadableExtension(p) && (!match || match(relative(root, p)))) out.push({ input: p, rel: relative(root, p) });
    }
  };
  for (const raw of req.inputs) {
    const input = await paths.check(raw, 'read');
    const s = await stat(input).catch(() => undefined);
    if (!s) throw Object.assign(new Error(`${raw}: no such file or folder`), { code: 'not-found' });
    if (s.isDirectory()) await walk(input, input);
    else out.push({ input, rel: basename(input) });
  }
  return out;
}

/**
 * The batch's files and outputs (folders made); `fileName` names an output from the input's
 * relative path and its format (by extension; png when the extension names none we write).
 */
export async function batchFiles(
  req: BatchRequest,
  outputDir: string,
  paths: PathPolicy,
  fileName: (rel: string, inputFormat: string) => string,
): Promise<BatchTask['files']> {
  const found = await expand(req, paths);
  if (found.length === 0) throw Object.assign(new Error(`no images found in ${req.inputs.join(', ')}`), { code: 'not-found' });
  await mkdir(outputDir, { recursive: true });
  const files: BatchTask['files'][number][] = [];
  for (const f of found) {
    const output = join(outputDir, dirname(f.rel), fileName(f.rel, formatFromExtension(f.input) ?? 'png'));
    await mkdir(dirname(output), { recursive: true });
    const exists = await stat(output).then(
      () => true,
      () => false,
    );
    files.push({ input: f.input, output, skip: req.skipExisting && exists });
  }
  return files;
}
