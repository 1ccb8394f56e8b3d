import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../engine/api/host';
import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import { importModel, importSourceFiles } from '../../engine/importers/import-model';
import { float32Tensor } from '../../engine/io/tensor';

const { onnx } = onnxProto;
const ESRGAN_SLIM_X2 = path.resolve(import.meta.dirname, '../../node_modules/@upscalerjs/esrgan-slim/models/x2');
const SHARD = 'group1-shard1of1.bin';

let dir: string;
let models: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-import-paths-'));
  models = path.join(dir, 'models');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const listModels = () => readdir(models).catch(() => [] as string[]);
const occurrences = (text: string, part: string) => text.split(part).length - 1;

/** esrgan-slim x2's model.json in `dir/name` with its shard paths replaced; the real shard lies `outside` it. */
async function modelJsonNaming(name: string, shardPath: string): Promise<string> {
  const folder = path.join(dir, name, 'model');
  await mkdir(folder, { recursive: true });
  await copyFile(path.join(ESRGAN_SLIM_X2, SHARD), path.join(dir, name, SHARD));
  const doc = JSON.parse(await readFile(path.join(ESRGAN_SLIM_X2, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  doc.weightsManifest[0]!.paths = [shardPath];
  const file = path.join(folder, 'model.json');
  await writeFile(file, JSON.stringify(doc));
  return file;
}

async function importError(source: string): Promise<string> {
  const e = await importModel({ source, modelsDir: models }).then(
    () => undefined,
    (err: Error) => err,
  );
  expect(e, `${source} must not import`).toBeInstanceOf(Error);
  return e!.message;
}

describe('a model.json never makes the importer read outside its folder', () => {
  it.each([
    ['up and out', `../${SHARD}`, /leaves the model folder/],
    ['absolute', `/etc/${SHARD}`, /is an absolute path/],
    ['Windows drive', `C:\\weights\\${SHARD}`, /is an absolute path/],
    ['Windows drive-relative', `C:${SHARD}`, /is an absolute path/],
    ['Windows up and out', `..\\${SHARD}`, /leaves the model folder/],
    ['UNC', `\\\\server\\share\\${SHARD}`, /is an absolute path/],
    ['a subfolder', `sub/${SHARD}`, /names a folder/],
  ])('%s: refused with the bad shard path named, nothing written', async (name, shardPath, why) => {
    const file = await modelJsonNaming(name.replace(/\W+/g, '-'), shardPath);
    const message = await importError(file);
    expect(message).toContain(`weight shard path ${JSON.stringify(shardPath)}`);
    expect(message).toMatch(why);
    expect(occurrences(message, file)).toBe(1);
    await expect(importSourceFiles(file)).rejects.toThrow(why);
    expect(await listModels()).toEqual([]);
  });

  it('a shard that is a link to a file outside the folder is refused; links inside it and a linked folder are followed', async () => {
    const file = await modelJsonNaming('linked', SHARD);
    const folder = path.dirname(file);
    await symlink(path.join(dir, 'linked', SHARD), path.join(folder, SHARD));
    expect(await importError(file)).toMatch(new RegExp(`weight shard ${SHARD} is a link that leads outside the model folder`));
    expect(await listModels()).toEqual([]);

    // The same shard moved into the folder, under another name, and linked to: inside, so it imports.
    await rm(path.join(folder, SHARD));
    await copyFile(path.join(dir, 'linked', SHARD), path.join(folder, 'real.bin'));
    await symlink('real.bin', path.join(folder, SHARD));
    const viaLinkedFolder = path.join(dir, 'folder-link');
    await symlink(folder, viaLinkedFolder);
    expect(await importSourceFiles(path.join(viaLinkedFolder, 'model.json'))).toEqual([file, path.join(folder, 'real.bin')]);
    const r = await importModel({ source: viaLinkedFolder, modelsDir: models, name: 'inside' });
    expect(r.card.scale).toBe(2);
    // A model.json reached through a file link: its shards are the ones beside the real file, for the check and the read.
    await mkdir(path.join(dir, 'elsewhere'));
    await symlink(file, path.join(dir, 'elsewhere/model.json'));
    expect(await importSourceFiles(path.join(dir, 'elsewhere/model.json'))).toEqual([file, path.join(folder, 'real.bin')]);
    expect((await importModel({ source: path.join(dir, 'elsewhere'), modelsDir: models, name: 'linked-json' })).card.scale).toBe(2);
    await rm(models, { recursive: true });
  });
});

describe('an ONNX file never makes onnxruntime read a file it names', () => {
  it('a Constant whose tensor lies in an external file is refused before any run', async () => {
    const g = new Graph('x2');
    g.output(g.depthToSpace(g.conv(g.input('input', [1, 3, 4, 4]), g.param('w', [12, 3, 1, 1]), undefined), 2), 'output');
    const model = onnx.ModelProto.decode(
      toOnnx(g, {
        params: 'initializers',
        weights: new Map([['w', float32Tensor([12, 3, 1, 1], new Float32Array(36).fill(0.1))]]),
        metadata: { value_range: '1' },
      }),
    );
    (model.graph as onnxProto.onnx.GraphProto).node.unshift(
      onnx.NodeProto.create({
        opType: 'Constant',
        name: 'leak',
        output: ['leaked'],
        attribute: [
          onnx.AttributeProto.create({
            name: 'value',
            type: onnx.AttributeProto.AttributeType.TENSOR,
            t: onnx.TensorProto.create({
              name: 'secret',
              dims: [4],
              dataType: onnx.TensorProto.DataType.FLOAT,
              dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
              externalData: [onnx.StringStringEntryProto.create({ key: 'location', value: '../../../../etc/passwd' })],
            }),
          }),
        ],
      }),
    );
    const file = path.join(dir, 'external.onnx');
    await writeFile(file, onnx.ModelProto.encode(model).finish());
    const message = await importError(file);
    expect(message).toBe(`${file}: tensor secret (node leak) is stored in an external file; import a self-contained .onnx`);
    expect(await listModels()).toEqual([]);
  });
});

describe('import errors name the source once', () => {
  it('a missing shard, an ONNX file with two inputs, a truncated .pth', async () => {
    const missing = await modelJsonNaming('missing', 'absent.bin');
    expect(await importError(missing)).toBe(
      `${missing}: weight shard absent.bin is missing (expected beside model.json in ${path.dirname(await realpath(missing))})`,
    );
    const g = new Graph('two');
    g.output(g.add(g.input('image', [1, 3, 8, 8]), g.input('noise', [1, 3, 8, 8])), 'output');
    const two = path.join(dir, 'two.onnx');
    await writeFile(
      two,
      toOnnx(g, {
        params: 'initializers',
        weights: new Map([['w', float32Tensor([12, 3, 1, 1], new Float32Array(36).fill(0.1))]]),
        metadata: { value_range: '1' },
      }),
    );
    expect(await importError(two)).toBe(`${two}: an upscaler takes one image input; this model has 2: image[1,3,8,8], noise[1,3,8,8]`);
    const cut = path.join(dir, 'cut.pth');
    const pth = await readFile(path.resolve(import.meta.dirname, '../fixtures/import/srvgg-x4.pth'));
    await writeFile(cut, pth.subarray(0, pth.length >> 1));
    const message = await importError(cut);
    expect(message.startsWith(`${cut}: `)).toBe(true);
    expect(occurrences(message, 'cut.pth')).toBe(1);
  });
});

describe('EngineHost.importModel reads only what the user allowed', () => {
  it('a model.json allowed alone, without the shards it names, is refused naming the shard', async () => {
    const folder = path.join(dir, 'host', 'x2');
    await mkdir(folder, { recursive: true });
    await copyFile(path.join(ESRGAN_SLIM_X2, 'model.json'), path.join(folder, 'model.json'));
    await copyFile(path.join(ESRGAN_SLIM_X2, SHARD), path.join(folder, SHARD));
    const host = await EngineHost.create({ configDir: path.join(dir, 'host-config'), transport: 'ipc', version: 't' });
    try {
      await host.paths.allowFile(path.join(folder, 'model.json'), 'read');
      await expect(host.importModel(path.join(folder, 'model.json'))).rejects.toThrow(`${path.join(folder, SHARD)}: not allowed to read`);
      expect(await readdir(path.join(dir, 'host-config/models')).catch(() => [])).toEqual([]);
      await host.paths.allowFile(path.join(folder, SHARD), 'read');
      expect(await host.importModel(path.join(folder, 'model.json'))).toMatchObject({ id: 'host-x2', scale: 2, source: 'user' });
    } finally {
      await host.close();
    }
  });

  it('web mode: the package.json and LICENSE above the granted folder are not read (name from the folders, no licence)', async () => {
    const pkg = path.join(dir, 'web/node_modules/esrgan-slim');
    const folder = path.join(pkg, 'models/x2');
    await mkdir(folder, { recursive: true });
    for (const f of ['model.json', SHARD]) await copyFile(path.join(ESRGAN_SLIM_X2, f), path.join(folder, f));
    await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: '@upscalerjs/outside-name' }));
    await writeFile(path.join(pkg, 'LICENSE'), 'licence text outside the grant');
    const configDir = path.join(dir, 'web-config');
    const host = await EngineHost.create({ configDir, transport: 'websocket', version: 't', roots: [folder] });
    try {
      const info = await host.importModel(folder);
      expect(info).toMatchObject({ id: 'esrgan-slim-x2', scale: 2, source: 'user' });
      const card = JSON.parse(await readFile(path.join(configDir, 'models/esrgan-slim-x2.json'), 'utf8')) as { imported: object };
      expect(card.imported).toMatchObject({ architecture: 'Keras (model.json)' });
      expect(card.imported).not.toHaveProperty('licence');
    } finally {
      await host.close();
    }
  });
});
