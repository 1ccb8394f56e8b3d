import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importKeras, upscalerjsRange } from '../../engine/importers/keras';
import { readKerasModel } from '../../engine/importers/keras-model';
import { float32Tensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { modelFromOnnxFile } from '../../engine/upscale/model';
import { upscaleImage } from '../../engine/upscale/pipeline';
import { summarizeOnnx } from '../../engine/graph/onnx';
import { initTfjsWasm, loadTfjsUpscaler, upscalerjsModelJson, type UpscalerjsPackage } from '../../scripts/bench/tfjs-upscalerjs';

/** Seeded values in [0, 1). */
function image(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 16807) % 2147483647) / 2147483647);
}

describe('UpscalerJS model.json import vs TensorFlow.js running the same files', () => {
  beforeAll(() => initTfjsWasm(1));

  const cases: [UpscalerjsPackage, number][] = [
    ['esrgan-slim', 2],
    ['esrgan-slim', 4],
    ['esrgan-medium', 2],
    ['esrgan-medium', 4],
    ['esrgan-thick', 2],
    ['esrgan-thick', 4],
  ];
  it.each(cases)('%s x%i: max abs error <= 1e-4 in the 0-1 range', async (pkg, scale) => {
    const imported = await importKeras(upscalerjsModelJson(pkg, scale));
    expect(imported.scale).toBe(scale);
    expect(imported.architecture).toBe(`UpscalerJS ${pkg}`);
    expect(imported.licence).toMatch(/MIT License/);
    // Symbolic H/W: one graph for every tile size.
    expect(summarizeOnnx(imported.onnx).inputs[0]!.shape).toEqual(['batch', 3, 'height', 'width']);
    const [h, w] = [11, 14];
    const x = image(3 * h * w, scale * 31 + pkg.length);
    const session = await ModelSession.create(imported.onnx);
    const ours = (await session.run({ input: float32Tensor([1, 3, h, w], x) })).output!;
    await session.release();
    expect(ours.shape).toEqual([1, 3, h * scale, w * scale]);
    const tfjs = await loadTfjsUpscaler(pkg, scale);
    const ref = await tfjs.run(x, h, w);
    tfjs.dispose();
    let maxErr = 0;
    let maxRef = 0;
    for (let i = 0; i < ref.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(ref[i]! - (ours.data as Float32Array)[i]!));
      maxRef = Math.max(maxRef, Math.abs(ref[i]!));
    }
    expect(maxRef).toBeGreaterThan(0.3); // a real image, not zeros on both sides
    expect(maxErr).toBeLessThanOrEqual(1e-4);
  });

  it('reads the value range as UpscalerJS defines it: rdn (slim, medium) 0-255, rrdn (thick) 0-1', async () => {
    expect(upscalerjsRange(await readKerasModel(upscalerjsModelJson('esrgan-slim', 2)))).toBe(255);
    expect(upscalerjsRange(await readKerasModel(upscalerjsModelJson('esrgan-medium', 4)))).toBe(255);
    expect(upscalerjsRange(await readKerasModel(upscalerjsModelJson('esrgan-thick', 2)))).toBe(1);
  });
});

describe('bad model.json files give clear errors', () => {
  let dir: string;
  const src = path.dirname(upscalerjsModelJson('esrgan-slim', 2));
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'minisr-keras-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** The parts of a model.json the tests edit. */
  interface ModelJson {
    format?: string;
    modelTopology: { model_config: { config: { layers: { class_name: string }[] } } };
    weightsManifest: { paths: string[] }[];
  }

  /** A copy of esrgan-slim x2's model.json changed by `edit`, with its shard beside it unless `noShard`. */
  async function variant(name: string, edit: (doc: ModelJson) => void, noShard = false): Promise<string> {
    const sub = path.join(dir, name);
    await mkdir(sub);
    const doc = JSON.parse(await readFile(path.join(src, 'model.json'), 'utf8')) as ModelJson;
    edit(doc);
    await writeFile(path.join(sub, 'model.json'), JSON.stringify(doc));
    if (!noShard) await copyFile(path.join(src, 'group1-shard1of1.bin'), path.join(sub, 'group1-shard1of1.bin'));
    return path.join(sub, 'model.json');
  }

  it('names a missing weight shard', async () => {
    const file = await variant('missing', () => {}, true);
    await expect(importKeras(file)).rejects.toThrow(/weight shard group1-shard1of1\.bin is missing/);
  });

  it('names every unknown layer type', async () => {
    const file = await variant('unknown', (doc) => {
      const layers = doc.modelTopology.model_config.config.layers;
      layers[3]!.class_name = 'BatchNormalization';
      layers[4]!.class_name = 'Dropout';
    });
    await expect(importKeras(file)).rejects.toThrow(/unsupported Keras layer types: BatchNormalization, Dropout/);
  });

  it('refuses shard paths that leave the model folder', async () => {
    const file = await variant('escape', (doc) => {
      doc.weightsManifest[0]!.paths = ['../missing/group1-shard1of1.bin'];
    });
    await expect(importKeras(file)).rejects.toThrow(/weight shard path "\.\.\/missing\/group1-shard1of1\.bin" leaves the model folder/);
  });

  it('refuses weights over the size limit before reading them', async () => {
    await expect(readKerasModel(upscalerjsModelJson('esrgan-slim', 2), { maxJsonBytes: 1 << 20, maxWeightBytes: 1000 })).rejects.toThrow(
      /over the 1000-byte limit/,
    );
  });

  it('refuses a shard whose size does not match the manifest', async () => {
    const file = await variant('short', () => {});
    await writeFile(path.join(path.dirname(file), 'group1-shard1of1.bin'), Buffer.alloc(100));
    await expect(importKeras(file)).rejects.toThrow(/hold 100 bytes, the manifest describes/);
  });

  it('refuses a TF.js graph model and invalid JSON', async () => {
    const graphModel = await variant('graph', (doc) => {
      doc.format = 'graph-model';
    });
    await expect(importKeras(graphModel)).rejects.toThrow(/not a Keras layers model/);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"modelTopology": ');
    await expect(importKeras(bad)).rejects.toThrow(/not valid JSON/);
  });
});

describe('an imported model in the upscaler', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'minisr-keras-tiles-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fixed 40x40 tiles with the measured margin give the whole-image result (within one 8-bit level)', async () => {
    const whole = await importKeras(upscalerjsModelJson('esrgan-slim', 2));
    const tiled = await importKeras(upscalerjsModelJson('esrgan-slim', 2), { tile: 40 });
    expect(tiled.margin).toBe(whole.margin);
    const files = { whole: path.join(dir, 'whole.onnx'), tiled: path.join(dir, 'tiled.onnx') };
    await writeFile(files.whole, whole.onnx);
    await writeFile(files.tiled, tiled.onnx);
    const model = await modelFromOnnxFile(files.tiled);
    // No card beside the file: scale and margin come from the import's metadata.
    expect(model).toMatchObject({ scale: 2, receptiveRadius: whole.margin, shapes: { height: 40, width: 40 } });
    const img = { width: 101, height: 83, channels: 3, data: image(3 * 101 * 83, 5) };
    const a = await upscaleImage(img, undefined, { model, ep: 'cpu', tile: 40 });
    const b = await upscaleImage(img, undefined, { model: await modelFromOnnxFile(files.whole), ep: 'cpu', tile: 128 });
    let err = 0;
    for (let i = 0; i < a.rgb.data.length; i++) err = Math.max(err, Math.abs(a.rgb.data[i]! - b.rgb.data[i]!));
    console.log(`esrgan-slim x2, 40-pixel tiles (margin ${whole.margin}) vs whole image: max abs difference ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1 / 255);
  });
});

describe('upsampling + conv fused into a low-resolution conv and a pixel shuffle', () => {
  let dir: string;
  beforeAll(async () => {
    await initTfjsWasm(1);
    dir = await mkdtemp(path.join(os.tmpdir(), 'minisr-keras-subpixel-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A functional tfjs model: conv, nearest upsampling by s, a `same` conv of kernel k (even and odd), saved as model.json + shard. */
  async function saved(s: number, k: number): Promise<{ file: string; model: tf.LayersModel }> {
    const input = tf.input({ shape: [null, null, 3] as unknown as number[], name: 'lr' });
    const a = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', name: 'a', biasInitializer: 'randomNormal' }).apply(input);
    const up = tf.layers.upSampling2d({ size: [s, s], name: 'up' }).apply(a);
    const out = tf.layers
      .conv2d({ filters: 3, kernelSize: k, padding: 'same', name: 'b', activation: 'relu', biasInitializer: 'randomNormal' })
      .apply(up) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const sub = path.join(dir, `s${s}k${k}`);
    await mkdir(sub);
    await model.save(
      tf.io.withSaveHandler(async (art) => {
        const data = Buffer.from(art.weightData as ArrayBuffer);
        await writeFile(path.join(sub, 'w.bin'), data);
        const manifest = [{ paths: ['w.bin'], weights: art.weightSpecs }];
        await writeFile(
          path.join(sub, 'model.json'),
          JSON.stringify({ format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: manifest }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    return { file: path.join(sub, 'model.json'), model };
  }

  it.each([
    [2, 3],
    [2, 2],
    [3, 3],
    [4, 5],
    [3, 4],
  ])('x%i then a k=%i same conv equals tfjs', async (s, k) => {
    const { file, model } = await saved(s, k);
    const imported = await importKeras(file, { range: 1 });
    const ops = summarizeOnnx(imported.onnx).opCounts;
    expect(ops.Concat ?? 0).toBe(0); // no upsampled copies: the conv runs at low resolution
    expect(ops.DepthToSpace).toBe(1);
    const [h, w] = [7, 6];
    const x = image(3 * h * w, s * 10 + k);
    const session = await ModelSession.create(imported.onnx);
    const ours = (await session.run({ input: float32Tensor([1, 3, h, w], x) })).output!.data as Float32Array;
    await session.release();
    const ref = tf.tidy(() =>
      (model.predict(tf.tensor4d(x, [1, 3, h, w]).transpose([0, 2, 3, 1])) as tf.Tensor).transpose([0, 3, 1, 2]).dataSync(),
    );
    expect(ours.length).toBe(ref.length);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ours[i]! - ref[i]!));
    expect(err).toBeLessThan(1e-5);
    expect(Math.max(...ours)).toBeGreaterThan(0.01);
  });
});
