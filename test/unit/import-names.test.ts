import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModel } from '../../engine/importers/import-model';
import { PathPolicy } from '../../engine/api/paths';
import { defaultModelName, packageAbove, uniqueModelId } from '../../engine/importers/model-name';

const ESRGAN_SLIM_X2 = path.resolve(import.meta.dirname, '../../node_modules/@upscalerjs/esrgan-slim/models/x2');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-import-names-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** An empty model.json at `rel` below the test folder (naming reads only the folders and package.json). */
async function modelJsonAt(rel: string, packageJson?: { dir: string; name: string }): Promise<string> {
  const file = path.join(dir, rel, 'model.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '{}');
  if (packageJson) await writeFile(path.join(dir, packageJson.dir, 'package.json'), JSON.stringify({ name: packageJson.name }));
  return file;
}

describe('default names of imported models', () => {
  it('a model file names itself', async () => {
    expect(await defaultModelName('/m/4x-UltraSharp.pth', 4)).toBe('4x-UltraSharp');
    expect(await defaultModelName('/m/compact.onnx', 2)).toBe('compact');
  });

  it('a model.json: its npm package (scope dropped) and the folders below it, with the scale', async () => {
    const slim = await modelJsonAt('node_modules/@upscalerjs/esrgan-slim/models/x2', {
      dir: 'node_modules/@upscalerjs/esrgan-slim',
      name: '@upscalerjs/esrgan-slim',
    });
    expect(await defaultModelName(slim, 2)).toBe('esrgan-slim-x2');
    const legacy = await modelJsonAt('legacy/models/div2k-2x', { dir: 'legacy', name: 'esrgan-legacy' });
    expect(await defaultModelName(legacy, 2)).toBe('esrgan-legacy-div2k-2x');
    const plain = await modelJsonAt('plain', { dir: 'plain', name: 'my-upscaler' });
    expect(await defaultModelName(plain, 4)).toBe('my-upscaler-x4');
  });

  it('a model.json without a package: the nearest folder that is neither generic nor a scale, with the scale', async () => {
    expect(await defaultModelName(await modelJsonAt('downloads/esrgan-thick/models/x4'), 4)).toBe('esrgan-thick-x4');
    expect(await defaultModelName(await modelJsonAt('downloads/face-sr/tfjs'), 8)).toBe('face-sr-x8');
  });

  it('a package.json or LICENSE the path policy does not allow is not read: treated as absent', async () => {
    const file = await modelJsonAt('granted/pkg/models/x4', { dir: 'granted/pkg', name: '@upscalerjs/pkg' });
    await writeFile(path.join(dir, 'granted/pkg/LICENSE'), 'MIT');
    const policy = new PathPolicy();
    const mayRead = (f: string) => policy.allows(f, 'read');
    await policy.allowRoot(path.dirname(file), 'read');
    expect(await packageAbove(file, mayRead)).toBeUndefined();
    expect(await defaultModelName(file, 4, mayRead)).toBe('pkg-x4');
    await policy.allowFile(path.join(dir, 'granted/pkg/package.json'), 'read');
    expect(await packageAbove(file, mayRead)).toEqual({ name: '@upscalerjs/pkg', dir: path.join(dir, 'granted/pkg') });
    await policy.allowRoot(path.join(dir, 'granted'), 'read');
    expect(await packageAbove(file, mayRead)).toEqual({ name: '@upscalerjs/pkg', dir: path.join(dir, 'granted/pkg'), licence: 'MIT' });
    expect(await packageAbove(file)).toEqual({ name: '@upscalerjs/pkg', dir: path.join(dir, 'granted/pkg'), licence: 'MIT' });
  });

  it('unique: the first of name, name-2, name-3 ... that is not taken', async () => {
    const taken = new Set(['a', 'a-2']);
    expect(await uniqueModelId('a', async (id) => taken.has(id))).toBe('a-3');
    expect(await uniqueModelId('b', async (id) => taken.has(id))).toBe('b');
  });

  it('importModel without --name: esrgan-slim x2 twice, and beside a model of the same name elsewhere', async () => {
    const pkg = path.join(dir, 'pkg/node_modules/@upscalerjs/esrgan-slim');
    await mkdir(path.join(pkg, 'models/x2'), { recursive: true });
    await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: '@upscalerjs/esrgan-slim' }));
    for (const f of ['model.json', 'group1-shard1of1.bin']) await copyFile(path.join(ESRGAN_SLIM_X2, f), path.join(pkg, 'models/x2', f));
    const models = path.join(dir, 'models');
    const source = path.join(pkg, 'models/x2');
    expect((await importModel({ source, modelsDir: models })).id).toBe('esrgan-slim-x2');
    expect((await importModel({ source, modelsDir: models })).id).toBe('esrgan-slim-x2-2');
    expect((await importModel({ source, modelsDir: models, existingIds: new Set(['esrgan-slim-x2-3']) })).id).toBe('esrgan-slim-x2-4');
    // A name the user gives is theirs: taken, it is an error rather than another name.
    await expect(importModel({ source, modelsDir: models, name: 'esrgan-slim-x2' })).rejects.toThrow(/already exists: choose another name/);
  });
});
