import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { summarizeOnnx, toOnnx } from '../../engine/graph/onnx';
import type { Value } from '../../engine/graph/value';
import { importModel } from '../../engine/importers/import-model';
import { importOnnx, importOnnxBytes } from '../../engine/importers/onnx-upscaler';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { exportSymbolicOnnx } from '../../engine/zoo/dynamic';

/** Positive conv weights in [lo, 5 lo] (every input pixel reaches every output within the kernel), seeded. */
function weightsFor(g: Graph, lo = 0.01, seed = 3): Map<string, HostTensor> {
  let s = seed;
  const w = new Map<string, HostTensor>();
  for (const [key, p] of g.params) {
    w.set(
      key,
      float32Tensor(
        p.value.shape,
        Float32Array.from({ length: numel(p.value.shape) }, () => lo * (1 + ((s = (s * 16807) % 2147483647) / 2147483647) * 4)),
      ),
    );
  }
  return w;
}

function conv(g: Graph, x: Value, key: string, cin: number, cout: number, k = 3): Value {
  return g.conv(x, g.param(`${key}.w`, [cout, cin, k, k]), g.param(`${key}.b`, [cout]));
}

/** Three 3x3 convs then a x2 pixel shuffle: receptive radius 3 input pixels. */
function threeConvX2(size: { batch: number; height: number; width: number }, names = { in: 'input', out: 'output' }): Graph {
  const g = new Graph('foreign');
  const x = g.input(names.in, [size.batch, 3, size.height, size.width]);
  const y = conv(g, g.relu(conv(g, g.relu(conv(g, x, 'c1', 3, 8)), 'c2', 8, 8)), 'c3', 8, 12);
  g.output(g.depthToSpace(y, 2), names.out);
  return g;
}

async function run(bytes: Uint8Array, input: string, x: Float32Array, h: number, w: number): Promise<HostTensor> {
  const s = await ModelSession.create(bytes);
  try {
    return Object.values(await s.run({ [input]: float32Tensor([1, 3, h, w], x) }))[0]!;
  } finally {
    await s.release();
  }
}

const image = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 997) / 997);

describe('foreign ONNX upscalers: probed and wrapped into our convention', () => {
  it('a 0-255 model with symbolic H/W: scale 2, margin 3 (three 3x3 convs), output in 0-1', async () => {
    const weights = weightsFor(threeConvX2({ batch: 1, height: 4, width: 4 }));
    const foreign = exportSymbolicOnnx((s) => threeConvX2(s), 1, weights);
    const imported = await importOnnxBytes(foreign, { range: 255 });
    expect(imported).toMatchObject({ scale: 2, margin: 3, inputMultiple: 1, params: 3 * 8 * 9 + 8 + 8 * 8 * 9 + 8 + 8 * 12 * 9 + 12 });
    expect(imported.architecture).toBe('ONNX (minisr)');
    const s = summarizeOnnx(imported.onnx);
    expect(s.inputs.map((i) => i.name)).toEqual(['input']);
    expect(s.outputs.map((o) => o.name)).toEqual(['output']);
    expect(s.metadata['minisr.range']).toBe('255');
    const [h, w] = [9, 7];
    const x = image(3 * h * w);
    const ours = (await run(imported.onnx, 'input', x, h, w)).data as Float32Array;
    const raw = (
      await run(
        foreign,
        'input',
        x.map((v) => v * 255),
        h,
        w,
      )
    ).data as Float32Array;
    expect(ours.length).toBe(3 * h * w * 4);
    let err = 0;
    for (let i = 0; i < raw.length; i++) err = Math.max(err, Math.abs(ours[i]! - raw[i]! / 255));
    expect(err).toBeLessThan(1e-6);
    expect(Math.max(...ours)).toBeGreaterThan(0.1);
  });

  it('a fixed-shape model with its own input/output names: scale 3 at its size, range from metadata', async () => {
    const g = new Graph('fixed');
    const x = g.input('lr', [1, 3, 20, 20]);
    g.output(g.depthToSpace(conv(g, x, 'c', 3, 27), 3), 'sr');
    const bytes = toOnnx(g, { params: 'initializers', weights: weightsFor(g), producer: 'chaiNNer', metadata: { value_range: '0-1' } });
    const imported = await importOnnxBytes(bytes);
    expect(imported).toMatchObject({ scale: 3, margin: 1, architecture: 'ONNX (chaiNNer)' });
    expect(summarizeOnnx(imported.onnx).inputs[0]).toEqual({ name: 'input', shape: [1, 3, 20, 20], dtype: 'float32' });
    const x0 = image(3 * 400);
    const a = (await run(imported.onnx, 'input', x0, 20, 20)).data as Float32Array;
    const b = (await run(bytes, 'lr', x0, 20, 20)).data as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('finds the input multiple of a model that needs one (space-to-depth 2 inside)', async () => {
    const build = (s: { batch: number; height: number; width: number }) => {
      const g = new Graph('needs2');
      const x = g.input('input', [s.batch, 3, s.height, s.width]);
      g.output(g.depthToSpace(conv(g, g.op1('SpaceToDepth', [x], { blocksize: 2 }), 'c', 12, 48), 4), 'output');
      return g;
    };
    const bytes = exportSymbolicOnnx(build, 2, weightsFor(build({ batch: 1, height: 2, width: 2 })));
    const imported = await importOnnxBytes(bytes, { range: 1 });
    expect(imported.scale).toBe(2);
    expect(imported.inputMultiple).toBe(2);
  });

  it('a margin probe sees no spread through a 1x1 model and a wide one through five strong 3x3 convs', async () => {
    const chain = (n: number, k: number) => (s: { batch: number; height: number; width: number }) => {
      const g = new Graph('chain');
      let v = g.input('input', [s.batch, 3, s.height, s.width]);
      for (let i = 0; i < n; i++) v = conv(g, v, `c${i}`, 3, 3, k);
      g.output(v, 'output');
      return g;
    };
    const at = async (n: number, k: number) =>
      (
        await importOnnxBytes(exportSymbolicOnnx(chain(n, k), 1, weightsFor(chain(n, k)({ batch: 1, height: 1, width: 1 }), 0.2)), {
          range: 1,
        })
      ).margin;
    expect(await at(1, 1)).toBe(0);
    expect(await at(5, 3)).toBe(5);
    // Weak weights: the change fades below the tolerance before the receptive field ends.
    const weak = chain(5, 3);
    const faded = await importOnnxBytes(exportSymbolicOnnx(weak, 1, weightsFor(weak({ batch: 1, height: 1, width: 1 }), 0.005)), {
      range: 1,
    });
    expect(faded.margin).toBeLessThan(5);
  });
});

describe('bad ONNX files give clear errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'minisr-onnx-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('two inputs: names both', async () => {
    const g = new Graph('two');
    const a = g.input('image', [1, 3, 8, 8]);
    const b = g.input('noise', [1, 3, 8, 8]);
    g.output(g.add(a, b), 'output');
    await expect(importOnnxBytes(toOnnx(g, { params: 'initializers' }), { range: 1 })).rejects.toThrow(
      /one image input; this model has 2: image\[1,3,8,8\], noise\[1,3,8,8\]/,
    );
  });

  it('no range given and none in the metadata', async () => {
    const g = threeConvX2({ batch: 1, height: 8, width: 8 });
    await expect(importOnnxBytes(toOnnx(g, { params: 'initializers', weights: weightsFor(g) }))).rejects.toThrow(
      /value range is unknown .* give it as 1 \(0-1\) or 255/,
    );
  });

  it('not an image input, not ONNX at all, too big', async () => {
    const g = new Graph('gray');
    g.output(g.relu(g.input('x', [1, 1, 8, 8])), 'y');
    await expect(importOnnxBytes(toOnnx(g, { params: 'initializers' }), { range: 1 })).rejects.toThrow(/is not an NCHW RGB image/);
    const junk = path.join(dir, 'junk.onnx');
    await writeFile(junk, Buffer.from('this is not a protobuf at all, just text \xff\xff\xff'));
    await expect(importOnnx(junk, { range: 1 })).rejects.toThrow(/junk\.onnx: not a valid ONNX model/);
    await expect(importOnnx(junk, { range: 1, maxBytes: 10 })).rejects.toThrow(/over the 10-byte limit/);
  });
});

describe('the import pipeline takes model.json folders and ONNX files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'minisr-import-formats-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('an UpscalerJS model folder becomes a model and card; a two-input ONNX leaves nothing behind', async () => {
    const models = path.join(dir, 'models');
    const folder = path.resolve(import.meta.dirname, '../../node_modules/@upscalerjs/esrgan-slim/models/x2');
    const r = await importModel({ source: folder, modelsDir: models, name: 'esrgan-slim-x2' });
    expect(r.id).toBe('esrgan-slim-x2');
    expect(r.card).toMatchObject({ scale: 2, params: 222_075, tile: 'dynamic', imported: { architecture: 'UpscalerJS esrgan-slim' } });
    expect(await readdir(models)).toEqual(['esrgan-slim-x2.json', 'esrgan-slim-x2.onnx']);

    const g = new Graph('two');
    g.output(g.add(g.input('image', [1, 3, 8, 8]), g.input('noise', [1, 3, 8, 8])), 'output');
    const two = path.join(dir, 'two.onnx');
    await writeFile(two, toOnnx(g, { params: 'initializers' }));
    await expect(importModel({ source: two, modelsDir: models, range: 1 })).rejects.toThrow(/one image input; this model has 2/);
    expect(await readdir(models)).toEqual(['esrgan-slim-x2.json', 'esrgan-slim-x2.onnx']);
  });
});
