import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { probeImage } from './decode';
import { isReadableExtension, READABLE_EXTENSIONS } from './formats';

/**
 * Folders of HR/LR image pairs (`NAME_HR.ext` + `NAME_LR.ext`, the layout of ../shared's Set5,
 * Set14 and BSD100), one rule for the benchmark and for training and validation data:
 * - any extension this build decodes counts (the shared sets are PNG; a user's may be JPEG);
 * - an HR without its LR, or an LR without its HR, is an error naming the file: skipping it would
 *   quietly score a benchmark on fewer images, a mean that is not the set's;
 * - a folder without pairs is an error naming the folder; other files are ignored;
 * - pairs come sorted by LR file name, the order benchmark results have always been listed in.
 * A folder's scale is HR size over LR size, a whole number the same for every pair.
 */

export interface ImagePair {
  /** `NAME` of `NAME_HR.ext`. */
  readonly name: string;
  readonly hr: string;
  readonly lr: string;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** `NAME`, `HR`/`LR` of a pair file's name (suffix and extension in any case), or undefined. */
function parse(file: string): { name: string; role: 'hr' | 'lr' } | undefined {
  const lower = file.toLowerCase();
  const ext = READABLE_EXTENSIONS.find((e) => lower.endsWith(e));
  if (!ext) return undefined;
  const m = /^(.+)_(HR|LR)$/i.exec(file.slice(0, -ext.length));
  return m ? { name: m[1]!, role: m[2]!.toLowerCase() as 'hr' | 'lr' } : undefined;
}

/** The names in an image folder, with an error that says which folder could not be read. */
async function readFolder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    throw new Error(`cannot read image folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** The images of `dir` this build decodes (as for pairs and batches), sorted by name. */
export async function listImages(dir: string): Promise<string[]> {
  return (await readFolder(dir))
    .filter((n) => isReadableExtension(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The `NAME_HR` / `NAME_LR` pairs of `dir`; throws on an unpaired or doubled image, or when there are none. */
export async function listPairs(dir: string): Promise<ImagePair[]> {
  const files = await readFolder(dir);
  const byName = new Map<string, { hr?: string; lr?: string }>();
  for (const file of files.sort()) {
    const p = parse(file);
    if (!p) continue;
    const entry = byName.get(p.name) ?? {};
    const seen = entry[p.role];
    if (seen) throw new Error(`${dir}: two ${p.role.toUpperCase()} images for ${p.name} (${seen}, ${file})`);
    entry[p.role] = file;
    byName.set(p.name, entry);
  }
  const pairs: (ImagePair & { lrFile: string })[] = [];
  for (const [name, { hr, lr }] of byName) {
    if (!lr) throw new Error(`${path.join(dir, hr!)}: no matching ${name}_LR image in ${dir}`);
    if (!hr) throw new Error(`${path.join(dir, lr)}: no matching ${name}_HR image in ${dir}`);
    pairs.push({ name, hr: path.join(dir, hr), lr: path.join(dir, lr), lrFile: lr });
  }
  if (pairs.length === 0) throw new Error(`no NAME_HR/NAME_LR image pairs in ${dir}`);
  return pairs.sort((a, b) => (a.lrFile < b.lrFile ? -1 : 1)).map(({ name, hr, lr }) => ({ name, hr, lr }));
}

/** The scale of one pair: HR size over LR size, which must be the same whole number across and down. */
export function pairScale(name: string, hr: Size, lr: Size): number {
  const scale = hr.width / lr.width;
  if (!Number.isInteger(scale) || hr.height !== lr.height * scale)
    throw new RangeError(`${name}: HR ${hr.width}x${hr.height} is no whole multiple of LR ${lr.width}x${lr.height}`);
  return scale;
}

/** A pair folder's pairs and its one scale, read from every pair's image headers; mixed scales throw naming both pairs. */
export async function pairFolder(dir: string): Promise<{ pairs: ImagePair[]; scale: number }> {
  const pairs = await listPairs(dir);
  let first: { name: string; scale: number } | undefined;
  for (const { name, hr, lr } of pairs) {
    const [hrSize, lrSize] = await Promise.all([probeImage(hr), probeImage(lr)]);
    const scale = pairScale(name, hrSize, lrSize);
    first ??= { name, scale };
    if (scale !== first.scale) throw new RangeError(`${dir}: mixed scales, ${first.name} is x${first.scale} and ${name} is x${scale}`);
  }
  return { pairs, scale: first!.scale };
}
