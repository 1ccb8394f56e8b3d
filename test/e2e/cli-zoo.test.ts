import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { summarizeOnnx } from '../../engine/graph/onnx';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../scripts/minisr.mjs');

function minisr(...args: string[]) {
  return run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 24 });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('minisr models / export', () => {
  it('models --json lists every preset with its exact parameter count', async () => {
    const rows = JSON.parse((await minisr('models', '--json')).stdout) as { preset: string; params: number; flops640x360: number }[];
    const params = Object.fromEntries(rows.map((r) => [r.preset, r.params]));
    expect(params).toMatchObject({ 'edsr-mini': 49_603, 'edsr-baseline': 1_369_859, 'swinir-mini': 98_868, 'swinir-light': 910_152 });
    expect(rows.every((r) => r.flops640x360 > 0)).toBe(true);
  });

  it('export writes the ONNX model and its card; a wrong checkpoint fails naming the key', async () => {
    const weights = path.join(dir, 'mini.safetensors');
    await saveSafetensors(weights, randomWeights(presetConfig('swinir-mini')));
    const out = path.join(dir, 'mini.onnx');
    const { stdout } = await minisr('export', '--preset', 'swinir-mini', '--weights', weights, '-o', out, '--tile', '64');
    expect(stdout).toMatch(/98,868 params, input 64x64/);
    const card = JSON.parse(await readFile(path.join(dir, 'mini.json'), 'utf8'));
    expect(card).toMatchObject({
      preset: 'swinir-mini',
      params: 98_868,
      scale: 2,
      tile: { height: 64, width: 64 },
      weights: { file: 'mini.safetensors' },
    });
    const summary = summarizeOnnx(await readFile(out));
    expect(summary.inputs[0]!.shape).toEqual([1, 3, 64, 64]);
    expect(JSON.parse(summary.metadata['minisr.card']!)).toEqual(card);

    const err = await minisr('export', '--preset', 'edsr-mini', '--weights', weights, '-o', path.join(dir, 'bad.onnx')).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(
      /missing keys \(34\): body\.0\.conv1\.weight.*shape mismatches \(6\): conv_first\.weight: checkpoint \[24, 3, 3, 3\], model \[16, 3, 3, 3\]/s,
    );
  });
});
