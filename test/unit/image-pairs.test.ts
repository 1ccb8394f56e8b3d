import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPairs, pairFolder, pairScale } from '../../engine/image/pairs';

/** Pair folders as ../shared lays them out (NAME_HR.ext + NAME_LR.ext), made of tiny flat images. */

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'minisr-pairs-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A folder holding `files` (name -> [width, height]); the format follows the extension. */
async function folder(sub: string, files: Record<string, [number, number]>): Promise<string> {
  const dir = path.join(root, sub);
  await mkdir(dir, { recursive: true });
  for (const [name, [width, height]] of Object.entries(files))
    await sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 160 } } })
      .toFormat(/\.jpe?g$/i.test(name) ? 'jpeg' : 'png')
      .toFile(path.join(dir, name));
  return dir;
}

describe('listPairs', () => {
  it('finds pairs of any decodable extension, sorted by LR file name, and ignores other files', async () => {
    const dir = await folder('mixed', {
      'bird_HR.jpg': [8, 8],
      'bird_LR.JPG': [4, 4],
      'baby_HR.png': [8, 8],
      'baby_LR.png': [4, 4],
      'baby2_HR.png': [8, 8],
      'baby2_LR.png': [4, 4],
      'notes.png': [2, 2],
    });
    await writeFile(path.join(dir, 'README.txt'), 'not an image');
    // baby2 before baby: '2' sorts before '_', as the benchmark has always listed them.
    expect(await listPairs(dir)).toEqual([
      { name: 'baby2', hr: path.join(dir, 'baby2_HR.png'), lr: path.join(dir, 'baby2_LR.png') },
      { name: 'baby', hr: path.join(dir, 'baby_HR.png'), lr: path.join(dir, 'baby_LR.png') },
      { name: 'bird', hr: path.join(dir, 'bird_HR.jpg'), lr: path.join(dir, 'bird_LR.JPG') },
    ]);
    expect((await pairFolder(dir)).scale).toBe(2);
  });

  it('names an HR without its LR, an LR without its HR, and a doubled image', async () => {
    const noLr = await folder('no-lr', { 'a_HR.png': [8, 8], 'a_LR.png': [4, 4], 'b_HR.png': [8, 8] });
    await expect(listPairs(noLr)).rejects.toThrow(`${path.join(noLr, 'b_HR.png')}: no matching b_LR image in ${noLr}`);
    const noHr = await folder('no-hr', { 'a_HR.png': [8, 8], 'a_LR.png': [4, 4], 'c_LR.png': [4, 4] });
    await expect(listPairs(noHr)).rejects.toThrow(`${path.join(noHr, 'c_LR.png')}: no matching c_HR image in ${noHr}`);
    const twice = await folder('twice', { 'a_HR.png': [8, 8], 'a_HR.jpg': [8, 8], 'a_LR.png': [4, 4] });
    await expect(listPairs(twice)).rejects.toThrow(`${twice}: two HR images for a (a_HR.jpg, a_HR.png)`);
  });

  it('names a folder without pairs, and one it cannot read', async () => {
    const none = await folder('none', { 'a.png': [4, 4] });
    await expect(listPairs(none)).rejects.toThrow(`no NAME_HR/NAME_LR image pairs in ${none}`);
    const missing = path.join(root, 'missing');
    await expect(listPairs(missing)).rejects.toThrow(`cannot read image folder ${missing}`);
  });
});

describe('pair scale', () => {
  it('is HR over LR, a whole number across and down', () => {
    expect(pairScale('a', { width: 12, height: 9 }, { width: 4, height: 3 })).toBe(3);
    expect(() => pairScale('a', { width: 9, height: 6 }, { width: 6, height: 4 })).toThrow('a: HR 9x6 is no whole multiple of LR 6x4');
    expect(() => pairScale('b', { width: 12, height: 8 }, { width: 6, height: 3 })).toThrow('b: HR 12x8 is no whole multiple of LR 6x3');
  });

  it('of a folder: every pair checked, mixed scales name both pairs', async () => {
    const x4 = await folder('x4', { '1_HR.png': [16, 8], '1_LR.png': [4, 2], '2_HR.png': [8, 8], '2_LR.png': [2, 2] });
    const got = await pairFolder(x4);
    expect([got.scale, got.pairs.map((p) => p.name)]).toEqual([4, ['1', '2']]);
    const mixed = await folder('mixed-scale', { '1_HR.png': [8, 8], '1_LR.png': [4, 4], '2_HR.png': [12, 12], '2_LR.png': [4, 4] });
    await expect(pairFolder(mixed)).rejects.toThrow(`${mixed}: mixed scales, 1 is x2 and 2 is x3`);
    const odd = await folder('odd', { '1_HR.png': [8, 8], '1_LR.png': [4, 4], '2_HR.png': [6, 6], '2_LR.png': [4, 4] });
    await expect(pairFolder(odd)).rejects.toThrow('2: HR 6x6 is no whole multiple of LR 4x4');
  });
});
