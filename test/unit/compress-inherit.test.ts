import { describe, expect, it } from 'vitest';
import { exportOnnx, modelParamShapes } from '../../engine/zoo/build';
import { validateConfig, type ModelConfig } from '../../engine/zoo/registry';
import { float32Tensor, type StateDict } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { analyzeImportance } from '../../engine/compress/importance';
import { inheritWeights } from '../../engine/compress/inherit';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights, rng } from './upscale-helpers';

// A tiny pruned teacher: 8 channels of which 0, 2, 5, 7 are exactly zero everywhere, 3 blocks of
// which block 1 is dead (conv2 all zero). Its report ranks channels 1, 3, 4, 6 and blocks 0, 2.
const teacher = validateConfig({ family: 'edsr', num_feat: 8, num_block: 3, res_scale: 1, upscale: 4 });
const student = validateConfig({ family: 'edsr', num_feat: 4, num_block: 2, res_scale: 2, upscale: 4 });
const LIVE = [1, 3, 4, 6];

function prunedTeacher(): Map<string, Float32Array> {
  const w = new Map([...randomWeights(teacher, 5)].map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]));
  const shapes = modelParamShapes(teacher);
  const dead = (c: number) => !LIVE.includes(c);
  for (const [k, v] of w) {
    const shape = shapes.get(k)!;
    const isBias = shape.length === 1;
    const out = shape[0]!;
    const cin = isBias ? 1 : shape[1]!;
    const taps = isBias ? 1 : shape[2]! * shape[3]!;
    const up = /^upsample\./.test(k) ? 4 : 1; // pixel-shuffle rows c*4 .. c*4+3 belong to channel c
    for (let o = 0; o < out; o++)
      for (let i = 0; i < cin; i++) {
        const rowDead = k !== 'conv_last.weight' && k !== 'conv_last.bias' && dead(Math.floor(o / up));
        const colDead = !isBias && k !== 'conv_first.weight' && dead(i);
        if (rowDead || colDead || /^body\.1\.conv2\./.test(k)) v.fill(0, (o * cin + i) * taps, (o * cin + i + 1) * taps);
      }
  }
  return w;
}

async function run(config: ModelConfig, weights: ReadonlyMap<string, Float32Array>, x: Float32Array): Promise<Float32Array> {
  const sd: StateDict = new Map([...modelParamShapes(config)].map(([k, s]) => [k, float32Tensor(s, weights.get(k)!)]));
  const session = await ModelSession.create(exportOnnx(config, sd, { height: 6, width: 5 }), { ep: 'cpu' });
  try {
    return (await session.run({ input: float32Tensor([1, 3, 6, 5], x) })).output!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('weight inheritance', () => {
  it('slices exactly the channels and blocks the report ranks highest, res_scale folded into conv2', async () => {
    const t = prunedTeacher();
    const report = analyzeImportance(teacher, t);
    const inh = inheritWeights(teacher, t, student, report);
    expect(inh.channels).toEqual(LIVE);
    expect(inh.blocks).toEqual([0, 2]);
    // Student block 1 is teacher block 2: rows/cols 1,3,4,6, conv2 halved (res_scale 1 -> 2).
    const t2 = t.get('body.2.conv2.weight')!;
    const s1 = inh.weights.get('body.1.conv2.weight')!;
    expect(s1[(2 * 4 + 3) * 9 + 4]).toBe(Math.fround(t2[(4 * 8 + 6) * 9 + 4]! / 2));
    expect(Array.from(inh.weights.get('body.1.conv1.bias')!)).toEqual(LIVE.map((c) => t.get('body.2.conv1.bias')![c]));
    expect(Array.from(inh.weights.get('upsample.2.bias')!)).toEqual(
      LIVE.flatMap((c) => [0, 1, 2, 3].map((k) => t.get('upsample.2.bias')![c * 4 + k])),
    );
    // Nothing the pruned teacher used was dropped: the student computes the teacher's function.
    const r = rng(9);
    const x = Float32Array.from({ length: 3 * 6 * 5 }, () => r());
    const [yt, ys] = [await run(teacher, t, x), await run(student, inh.weights, x)];
    expect(Math.max(...yt.map((v, i) => Math.abs(v - ys[i]!)))).toBeLessThan(1e-4);
  });

  it('refuses a report of another model, another scale, or a SwinIR student', () => {
    const t = prunedTeacher();
    const report = analyzeImportance(teacher, t);
    expect(() =>
      inheritWeights(teacher, t, validateConfig({ family: 'edsr', num_feat: 4, num_block: 2, res_scale: 2, upscale: 2 }), report),
    ).toThrow(/x4, the student x2/);
    expect(() => inheritWeights(teacher, t, presetConfig('swinir-mini'), report)).toThrow(/student is swinir/);
    expect(() =>
      inheritWeights(teacher, t, student, { ...report, config: validateConfig({ family: 'edsr', num_feat: 8, num_block: 4, upscale: 4 }) }),
    ).toThrow(/not of this teacher/);
  });
});
