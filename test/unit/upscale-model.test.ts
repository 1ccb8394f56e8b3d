import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { CARD_SCHEMA, cardPathFor, writeCard, type ModelCard } from '../../engine/zoo/card';
import { exportDynamicOnnx } from '../../engine/zoo/dynamic';
import { exportOnnx } from '../../engine/zoo/build';
import { presetConfig } from '../../engine/zoo/presets';
import { receptiveRadius, resolveModel } from '../../engine/upscale/model';
import { randomWeights } from './upscale-helpers';

let dir: string;
const config = presetConfig('edsr-mini');
const weights = randomWeights(config, 2);

function card(tile: ModelCard['tile']): ModelCard {
  return {
    schema: CARD_SCHEMA,
    preset: 'edsr-mini',
    config,
    scale: 2,
    params: 1,
    flops: { at640x360: 1, perMegapixel: 1 },
    tile,
    inputMultiple: 1,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-models-'));
  await writeFile(join(dir, 'dyn-x2.onnx'), exportDynamicOnnx(config, weights));
  await writeCard(cardPathFor(join(dir, 'dyn-x2.onnx')), card('dynamic'));
  await writeFile(join(dir, 'static-x2.onnx'), exportOnnx(config, weights, { height: 64, width: 64 }));
  await writeCard(cardPathFor(join(dir, 'static-x2.onnx')), card({ height: 64, width: 64 }));
  await writeFile(join(dir, 'foreign.onnx'), exportOnnx(config, weights, { height: 48, width: 40 })); // no card
  await saveSafetensors(join(dir, 'w.safetensors'), weights);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resolveModel', () => {
  it('EDSR receptive radius counts its 3x3 convs', () => {
    expect(receptiveRadius(presetConfig('edsr-baseline'))).toBe(37);
    expect(receptiveRadius(presetConfig('swinir-mini'))).toBeUndefined();
  });

  it('a shipped id with a dynamic card runs any tile shape from one graph', async () => {
    const m = await resolveModel({ model: 'dyn-x2', modelsDir: dir });
    expect([m.id, m.scale, m.shapes, m.dynamic, m.receptiveRadius]).toEqual(['dyn-x2', 2, 'any', true, receptiveRadius(config)]);
  });

  it('a static exported model is rebuilt for any tile shape from the weights it carries', async () => {
    const m = await resolveModel({ model: join(dir, 'static-x2.onnx'), modelsDir: dir });
    expect(m.shapes).toBe('any');
    expect(m.onnxFor(32, 24).length).toBeGreaterThan(1000);
  });

  it('a foreign ONNX file runs at the shape it declares only', async () => {
    const m = await resolveModel({ model: join(dir, 'foreign.onnx'), modelsDir: dir });
    expect([m.scale, m.shapes, m.dynamic]).toEqual([2, { height: 48, width: 40 }, false]);
    expect(() => m.onnxFor(32, 32)).toThrow(/48x40/);
  });

  it('a preset with --weights, or the shipped model exported from that preset', async () => {
    expect((await resolveModel({ model: 'edsr-mini', weights: join(dir, 'w.safetensors'), modelsDir: dir })).id).toBe('edsr-mini');
    expect((await resolveModel({ model: 'edsr-mini', modelsDir: dir })).id).toBe('dyn-x2');
    await expect(resolveModel({ model: 'swinir-mini', modelsDir: dir })).rejects.toThrow(/needs --weights/);
    await expect(resolveModel({ model: 'nope', modelsDir: dir })).rejects.toThrow(/unknown model "nope"/);
  });

  it('a foreign ONNX file with symbolic H/W: scale from a trial run', async () => {
    await writeFile(join(dir, 'foreign-dyn.onnx'), exportDynamicOnnx(config, weights));
    const m = await resolveModel({ model: join(dir, 'foreign-dyn.onnx'), modelsDir: dir });
    expect([m.scale, m.shapes, m.dynamic, m.receptiveRadius]).toEqual([2, 'any', true, undefined]);
  });

  it('no -m: the first shipped default model, else a clear error', async () => {
    await expect(resolveModel({ modelsDir: dir })).rejects.toThrow(/no shipped model/);
    await writeFile(join(dir, 'edsr-baseline-x2.onnx'), exportDynamicOnnx(config, weights));
    expect((await resolveModel({ modelsDir: dir })).id).toBe('edsr-baseline-x2');
  });

  it('no -m with a scale: the native model of that scale when shipped, else the x2 default (two passes)', async () => {
    expect((await resolveModel({ modelsDir: dir, scale: 4 })).id).toBe('edsr-baseline-x2');
    const x4 = presetConfig('edsr-mini', { scale: 4 });
    await writeFile(join(dir, 'edsr-mini-x4.onnx'), exportDynamicOnnx(x4, randomWeights(x4, 3)));
    await writeCard(cardPathFor(join(dir, 'edsr-mini-x4.onnx')), { ...card('dynamic'), config: x4, scale: 4 });
    const native = await resolveModel({ modelsDir: dir, scale: 4 });
    expect([native.id, native.scale]).toEqual(['edsr-mini-x4', 4]);
    expect((await resolveModel({ modelsDir: dir, scale: 2 })).id).toBe('edsr-baseline-x2');
    expect((await resolveModel({ modelsDir: dir, scale: 8 })).id).toBe('edsr-baseline-x2');
    expect((await resolveModel({ model: 'dyn-x2', modelsDir: dir, scale: 4 })).id).toBe('dyn-x2');
  });
});
