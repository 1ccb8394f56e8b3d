import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { formatFromExtension } from '../image/formats';
import { collectInputs } from '../upscale/batch';
import type { PathPolicy } from './paths';
import type { BatchTask } from './tasks';
import type { BatchRequest } from './types';

/**
 * What a batch request covers, as the job worker wants it: chosen files as they are, folders
 * walked for readable images (by collectInputs, each path checked against the allow-list), and
 * for each file its output below the output folder, mirroring the input tree.
 */

/**
 * The files a batch covers, with their paths relative to the folder they were found in. Which
 * files a folder holds for a batch is collectInputs' decision (the CLI's too); here each chosen
 * path must be allowed and exist, and what a folder yields must still be allowed (a link in it
 * may lead elsewhere). A folder named like an image is left out: the worker takes files only.
 */
async function expand(req: BatchRequest, paths: PathPolicy): Promise<{ input: string; rel: string }[]> {
  const inputs: string[] = [];
  for (const raw of req.inputs) {
    const input = await paths.check(raw, 'read');
    if (!(await stat(input).catch(() => undefined)))
      throw Object.assign(new Error(`${raw}: no such file or folder`), { code: 'not-found' });
    inputs.push(input);
  }
  const out: { input: string; rel: string }[] = [];
  for (const item of await collectInputs(inputs, { recursive: req.recursive, ...(req.glob ? { include: req.glob } : {}) })) {
    if (item.problem || (item.root && !(await paths.allows(item.input, 'read')))) continue;
    out.push({ input: item.input, rel: item.root ? relative(item.root, item.input) : basename(item.input) });
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
