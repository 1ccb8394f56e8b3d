import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../engine/api/models';
import { Graph } from '../../engine/graph/graph';
import { toOnnx } from '../../engine/graph/onnx';
import { importModel } from '../../engine/importers/import-model';
import { loadStateDict } from '../../engine/io/checkpoint';
import { isZooCard, readAnyCard } from '../../engine/zoo/card';
import { ImageModel } from '../../engine/zoo/infer';
import { presetConfig } from '../../engine/zoo/presets';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
const fixture = (name: string) => path.join(FIXTURES, name);

let dir: string;
let models: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-import-'));
  models = path.join(dir, 'models');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** What the models folder holds (nothing at all when it was never created). */
const listModels = () => readdir(models).catch(() => [] as string[]);

describe('importModel: a .pth into the models folder', () => {
  it('writes the ONNX model and its card; the file alone upscales as the reference PyTorch model does', async () => {
    const res = await importModel({ source: fixture('rrdbnet-x2.pth'), modelsDir: models });
    expect(res.id).toBe('rrdbnet-x2');
    expect((await listModels()).sort()).toEqual(['rrdbnet-x2.json', 'rrdbnet-x2.onnx']);

    const card = await readAnyCard(res.cardPath);
    if (!isZooCard(card)) throw new Error('a .pth import has a zoo card');
    expect(card.config).toMatchObject({ family: 'rrdbnet', num_feat: 8, num_block: 1, num_grow_ch: 4, scale: 2 });
    expect(card.scale).toBe(2);
    expect(card.params).toBe(14731); // what PyTorch counts (make_goldens.py prints it)
    expect(card.flops!.perMegapixel).toBeGreaterThan(0);
    expect(card.tile).toBe('dynamic');
    expect(card.inputMultiple).toBe(2);
    const sha = createHash('sha256')
      .update(await readFile(fixture('rrdbnet-x2.pth')))
      .digest('hex');
    expect(card.imported).toMatchObject({
      architecture: 'RRDBNet (ESRGAN, BasicSR layout)',
      source: { file: 'rrdbnet-x2.pth', sha256: sha },
    });
    expect(card.imported!.margin).toBeGreaterThan(0);

    // The ONNX file carries the card in its metadata: it runs without the JSON beside it.
    const io = await loadStateDict(fixture('rrdbnet-x2.io.pth'));
    const input = io.get('input')!;
    const model = await ImageModel.fromOnnx(await readFile(res.modelPath));
    try {
      const out = await model.upscale({ width: 8, height: 8, channels: 3, data: input.data as Float32Array });
      const want = io.get('output')!.data as Float32Array;
      expect(Math.max(...out.data.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThanOrEqual(1e-4);
    } finally {
      await model.release();
    }

    const listed = (await new ModelCatalog(path.join(dir, 'none'), models).list()).find((m) => m.id === 'rrdbnet-x2');
    expect(listed).toMatchObject({ family: 'rrdbnet', scale: 2, params: 14731, source: 'user' });
  });

  it('names the model by --name, made safe as a file name', async () => {
    const res = await importModel({ source: fixture('edsr-official-x3.pth'), modelsDir: models, name: 'my EDSR/x3' });
    expect(res.id).toBe('my-EDSR-x3');
    expect((await listModels()).sort()).toEqual(['my-EDSR-x3.json', 'my-EDSR-x3.onnx']);
  });

  it('never replaces a model of the same name, and leaves both files of the first as they were', async () => {
    await importModel({ source: fixture('srvgg-x4.pth'), modelsDir: models, name: 'm' });
    const before = await readFile(path.join(models, 'm.onnx'));
    await expect(importModel({ source: fixture('edsr-official-x2.pth'), modelsDir: models, name: 'm' })).rejects.toThrow(
      /m\.json already exists: choose another name/,
    );
    expect((await listModels()).sort()).toEqual(['m.json', 'm.onnx']);
    expect(Buffer.compare(await readFile(path.join(models, 'm.onnx')), before)).toBe(0);
  });
});

describe.runIf(sharedAvailable('import of the EDSR-baseline teacher'))('importModel: our own teacher, BasicSR layout', () => {
  it('../shared edsr_baseline_x2.pth comes in as the edsr-baseline preset', async () => {
    const res = await importModel({ source: sharedPath('weights', 'edsr_baseline_x2.pth'), modelsDir: models });
    const card = await readAnyCard(res.cardPath);
    expect(isZooCard(card) && card.config).toEqual(presetConfig('edsr-baseline'));
    expect(card.imported?.architecture).toBe('EDSR (BasicSR layout)');
  });
});

describe('bad imports: a clear error and nothing left in the models folder', () => {
  it('a truncated .pth', async () => {
    const bytes = await readFile(fixture('rrdbnet-x4.pth'));
    const cut = path.join(dir, 'cut.pth');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(importModel({ source: cut, modelsDir: models })).rejects.toThrow(/cut\.pth: .*(corrupt zip|truncated)/);
    expect(await listModels()).toEqual([]);
  });

  it('a .pth of an unknown architecture: the error names the key prefixes found', async () => {
    const err = await importModel({ source: fixture('unknown-arch.pth'), modelsDir: models }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/unknown architecture/);
    expect((err as Error).message).toMatch(/keys found: encoder\.conv_in \(2\), decoder\.up \(1\)/);
    expect(await listModels()).toEqual([]);
  });

  it('an ONNX file with two inputs', async () => {
    const g = new Graph('two-inputs');
    g.output(g.add(g.input('a', [1, 3, 4, 4]), g.input('b', [1, 3, 4, 4])), 'output');
    const file = path.join(dir, 'two.onnx');
    await writeFile(file, toOnnx(g, { params: 'initializers' }));
    await expect(importModel({ source: file, modelsDir: models })).rejects.toThrow(/two\.onnx: /);
    expect(await listModels()).toEqual([]);
  });

  it('a file over the size limit is not read', async () => {
    await expect(importModel({ source: fixture('rrdbnet-x4.pth'), modelsDir: models, maxBytes: 1000 })).rejects.toThrow(
      /over the 1000-byte limit/,
    );
    expect(await listModels()).toEqual([]);
  });

  it('a folder without model.json, and a missing file', async () => {
    await expect(importModel({ source: FIXTURES + '/..', modelsDir: models })).rejects.toThrow(/a folder without model\.json/);
    await expect(importModel({ source: path.join(dir, 'nope.pth'), modelsDir: models })).rejects.toThrow(
      /nope\.pth: cannot read \(ENOENT\)/,
    );
    expect(await listModels()).toEqual([]);
  });
});
