import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { float32Tensor, type StateDict } from '../../engine/io/tensor';
import { modelParamShapes } from '../../engine/zoo/build';
import { validateTrainConfig } from '../../engine/train/config';
import { initParams } from '../../engine/train/init';
import { loadLatestCheckpoint } from '../../engine/train/run-dir';
import { Trainer } from '../../engine/train/trainer';
import { writeSmoothImages } from '../helpers/train-images';

let dir: string;
const constants = new Map<string, number>();
const x2 = { family: 'edsr', num_feat: 4, num_block: 1, upscale: 2 } as const;
const x4 = { ...x2, upscale: 4 } as const;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-init-partial-'));
  await writeSmoothImages(dir, { count: 2, seed: 3, noise: [8, 8], size: [48, 40], prefix: 'img' });
  // x2 weights: every tensor a distinct constant, so where each one landed is visible.
  const sd: StateDict = new Map();
  let i = 1;
  for (const [k, shape] of modelParamShapes(validateTrainConfig({ model: x2, data: { dir }, steps: 1 }).model)) {
    constants.set(k, Math.fround(i++ / 100));
    sd.set(k, float32Tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(constants.get(k)!)));
  }
  await saveSafetensors(path.join(dir, 'x2.safetensors'), sd);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const config = (init: Record<string, unknown>) =>
  validateTrainConfig({
    model: x4,
    data: { dir },
    steps: 1,
    batch: 1,
    patch: 6,
    seed: 7,
    optim: { lr: 1e-12 }, // one step that moves nothing measurable: the checkpoint shows the init
    schedule: { type: 'constant' },
    cacheDir: path.join(dir, 'cache'),
    worker: false,
    threads: 1,
    init,
  });

describe('partial init (an x4 EDSR from x2 weights)', () => {
  it('takes every tensor whose key and shape match and starts only the second upsample stage fresh', async () => {
    const out = path.join(dir, 'run');
    const t = new Trainer(config({ weights: path.join(dir, 'x2.safetensors'), partial: true }), out, { export: false });
    const details: string[] = [];
    t.on('status', (s) => details.push(s.detail ?? ''));
    await t.run();
    expect(details.find((d) => d.startsWith('from '))).toMatch(/\(fresh: upsample\.2\.weight, upsample\.2\.bias\)$/);
    const shapes = modelParamShapes(config({ weights: 'x' }).model);
    const ck = (await loadLatestCheckpoint(out, [...shapes.keys()], []))!;
    const scratch = initParams('edsr', shapes, 7);
    for (const k of shapes.keys()) {
      const got = ck.params.get(k)!;
      const want = constants.has(k) ? new Float32Array(got.length).fill(constants.get(k)!) : scratch.get(k)!;
      expect(constants.has(k)).toBe(!k.startsWith('upsample.2.'));
      expect(Math.max(...got.map((v, j) => Math.abs(v - want[j]!)))).toBeLessThan(1e-6);
    }
  });

  it('without partial, the mismatch is an error naming the missing keys; partial with nothing in common is an error too', async () => {
    await expect(
      new Trainer(config({ weights: path.join(dir, 'x2.safetensors') }), path.join(dir, 'strict'), { export: false }).run(),
    ).rejects.toThrow(/missing keys \(2\): upsample\.2\.weight, upsample\.2\.bias/);
    await saveSafetensors(path.join(dir, 'other.safetensors'), new Map([['nope', float32Tensor([1], new Float32Array(1))]]));
    await expect(
      new Trainer(config({ weights: path.join(dir, 'other.safetensors'), partial: true }), path.join(dir, 'none'), { export: false }).run(),
    ).rejects.toThrow(/no tensor matches the model/);
    expect(() => config({ weights: 'w', partial: 'yes' })).toThrow(/init.partial/);
  });
});
