import { describe, expect, it } from 'vitest';
import {
  coupledHalfSpaceStep,
  coupledPenalty,
  coupledProxStep,
  edsrCoupledGroups,
  isZeroGroup,
  type CoupledGroup,
} from '../../engine/compress/coupled';
import { groupProxStep } from '../../engine/compress/group';
import { analyzeImportance, type EdsrBlocks } from '../../engine/compress/importance';
import { OBProx } from '../../engine/compress/obprox';
import { validateTrainConfig } from '../../engine/train/config';
import { Rng } from '../../engine/train/rng';
import { modelParamShapes } from '../../engine/zoo/build';
import { randomWeights } from '../../engine/zoo/random-weights';
import { validateConfig } from '../../engine/zoo/registry';

const model = validateConfig({ family: 'edsr', num_feat: 4, num_block: 2 });
const shapes = modelParamShapes(model);
const weights = (seed = 3) => new Map([...randomWeights(model, seed, 0.2)].map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]));
const zerosLike = (p: Map<string, Float32Array>) => new Map([...p].map(([k, v]) => [k, new Float32Array(v.length)]));
const flat = (p: Map<string, Float32Array>, g: CoupledGroup) =>
  g.segments.flatMap(({ key, start, len }) => Array.from(p.get(key)!.subarray(start, start + len)));
const norm = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

/** How many groups of the list hold each value of each tensor. */
function membership(groups: CoupledGroup[]): Map<string, Uint8Array> {
  const m = new Map([...shapes].map(([k, s]) => [k, new Uint8Array(s.reduce((a, b) => a * b, 1))]));
  for (const g of groups) for (const { key, start, len } of g.segments) for (let i = start; i < start + len; i++) m.get(key)![i]!++;
  return m;
}

describe('coupled groups of a tiny EDSR (4 features, 2 blocks)', () => {
  const groups = edsrCoupledGroups(shapes);

  it('a channel group is every row and bias writing the channel; a block group is its two convs; the upsampler is in none', () => {
    expect(groups.channels.map((g) => g.name)).toEqual(['channel 0', 'channel 1', 'channel 2', 'channel 3']);
    expect(groups.blocks.map((g) => g.name)).toEqual(['body.0', 'body.1']);
    // conv_first row 3*9 + bias, two conv2 rows 4*9 + bias, conv_after_body row 4*9 + bias
    for (const g of groups.channels) expect(g.size).toBe(28 + 2 * 37 + 37);
    expect(groups.channels[2]!.segments).toContainEqual({ key: 'body.1.conv2.weight', start: 72, len: 36 });
    expect(groups.channels[2]!.segments).toContainEqual({ key: 'conv_after_body.bias', start: 2, len: 1 });
    for (const g of groups.blocks) expect(g.size).toBe(2 * (4 * 4 * 9 + 4));
    const inChannels = membership(groups.channels);
    const inBlocks = membership(groups.blocks);
    for (const [key, n] of inChannels) {
      const writer = /^(conv_first|body\.\d\.conv2|conv_after_body)\./.test(key);
      const block = /^body\.\d\.conv[12]\./.test(key);
      expect(
        n.every((v) => v === (writer ? 1 : 0)),
        `${key} in exactly ${writer ? 'one' : 'no'} channel group`,
      ).toBe(true);
      expect(
        inBlocks.get(key)!.every((v) => v === (block ? 1 : 0)),
        `${key} in exactly ${block ? 'one' : 'no'} block group`,
      ).toBe(true);
    }
    expect(groups.keys.sort()).toEqual([...shapes.keys()].filter((k) => !/^(upsample|conv_last)/.test(k)).sort());
  });

  it('the prox step is the gradient step, then each family soft-thresholded in turn; it agrees with groupProxStep on plain rows', () => {
    const p = weights();
    const rng = Rng.seeded(4);
    const g = new Map([...p].map(([k, v]) => [k, Float32Array.from(v, () => rng.uniform(-1, 1))]));
    const lr = 0.1;
    const lambda = 0.05;
    const expected = new Map([...p].map(([k, v]) => [k, Float32Array.from(v, (x, i) => x - lr * g.get(k)![i]!)]));
    for (const grp of [...groups.channels, ...groups.blocks]) {
      const z = flat(expected, grp);
      const t = lr * lambda * Math.sqrt(grp.size);
      const s = Math.max(0, 1 - t / norm(z));
      for (const { key, start, len } of grp.segments) for (let i = start; i < start + len; i++) expected.get(key)![i]! *= s;
    }
    const before = new Map([...p].map(([k, v]) => [k, Float32Array.from(v)]));
    coupledProxStep(p, g, groups, lr, lambda);
    for (const k of groups.keys) for (let i = 0; i < p.get(k)!.length; i++) expect(p.get(k)![i]).toBeCloseTo(expected.get(k)![i]!, 5);
    // Outside the groups nothing moved (OBProx steps those with plain SGD).
    expect(p.get('conv_last.weight')).toEqual(before.get('conv_last.weight'));

    // On conv_first (in channel groups only) the soft-threshold is group.ts's row rule, with the same threshold.
    const one = {
      channels: groups.channels.map((c) => ({ ...c, segments: c.segments.slice(0, 2), size: 28 })),
      blocks: [],
      keys: ['conv_first.weight', 'conv_first.bias'],
    };
    const a = new Map([...before].map(([k, v]) => [k, Float32Array.from(v)]));
    coupledProxStep(a, g, one, lr, 3);
    const b = { w: Float32Array.from(before.get('conv_first.weight')!), b: Float32Array.from(before.get('conv_first.bias')!) };
    groupProxStep(b, { w: g.get('conv_first.weight')!, b: g.get('conv_first.bias')! }, 27, lr, 3);
    for (let i = 0; i < b.w.length; i++) expect(a.get('conv_first.weight')![i]).toBeCloseTo(b.w[i]!, 6);
    for (let o = 0; o < 4; o++) expect(a.get('conv_first.bias')![o]).toBeCloseTo(b.b[o]!, 6);
  });

  it('a large threshold zeroes whole channel and block groups, and the importance report calls them dead', () => {
    const p = weights();
    // Shrink channels 1 and 3 and block 1 so one threshold separates them from the rest.
    for (const grp of [groups.channels[1]!, groups.channels[3]!, groups.blocks[1]!])
      for (const { key, start, len } of grp.segments) for (let i = start; i < start + len; i++) p.get(key)![i]! *= 0.05;
    const before = analyzeImportance(model, p);
    expect(before.channels.aliveCount).toBe(4);
    expect((before.structure as EdsrBlocks).blocks.map((b) => b.dead)).toEqual([false, false]);
    const norms = [...groups.channels, ...groups.blocks].map((g) => norm(flat(p, g)) / Math.sqrt(g.size));
    // threshold t = lambda sqrt(|g|) with lr 1: kills a group when its norm / sqrt(|g|) < lambda
    const lambda = 0.05;
    expect(norms.filter((n) => n < lambda).length).toBe(3);
    coupledProxStep(p, zerosLike(p), groups, 1, lambda);
    expect(groups.channels.map((g) => isZeroGroup(p, g))).toEqual([false, true, false, true]);
    expect(groups.blocks.map((g) => isZeroGroup(p, g))).toEqual([false, true]);
    const after = analyzeImportance(model, p);
    expect(after.channels.alive).toEqual([true, false, true, false]);
    expect((after.structure as EdsrBlocks).blocks.map((b) => b.dead)).toEqual([false, true]);
    expect(coupledPenalty(p, groups, lambda)).toBeCloseTo(
      lambda * [groups.channels[0]!, groups.channels[2]!, groups.blocks[0]!].reduce((s, g) => s + Math.sqrt(g.size) * norm(flat(p, g)), 0),
      4,
    );
  });

  it('a half-space step keeps zero groups zero, steps the rest along f + both groups terms, zeroes a group that leaves its half-space', () => {
    const p = weights(5);
    for (const { key, start, len } of groups.channels[0]!.segments) p.get(key)!.fill(0, start, start + len);
    const x = new Map([...p].map(([k, v]) => [k, Float32Array.from(v)]));
    const g = zerosLike(p);
    // Channel 2's gradient points back through its values: the step takes it past zero.
    for (const { key, start, len } of groups.channels[2]!.segments)
      for (let i = start; i < start + len; i++) g.get(key)![i] = 20 * x.get(key)![i]!;
    // Channel 0 is zero: a gradient does not revive it (its conv2 rows too, though their blocks are nonzero).
    for (const { key, start, len } of groups.channels[0]!.segments) g.get(key)!.fill(-1, start, start + len);
    const rng = Rng.seeded(9);
    for (const [k, v] of g) if (k.includes('conv1')) for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-0.1, 0.1);
    const lr = 0.1;
    const lambda = 0.01;
    coupledHalfSpaceStep(p, g, groups, lr, lambda);
    expect(isZeroGroup(p, groups.channels[0]!)).toBe(true);
    expect(isZeroGroup(p, groups.channels[2]!)).toBe(true);
    expect(groups.channels.map((c) => isZeroGroup(p, c))).toEqual([true, false, true, false]);
    expect(groups.blocks.map((c) => isZeroGroup(p, c))).toEqual([false, false]);
    // A conv2 value of channel 1 in block 0: x - lr (g + lambda sqrt(n) x (1/|x_channel| + 1/|x_block|)).
    const coef = (grp: CoupledGroup) => (lambda * Math.sqrt(grp.size)) / norm(flat(x, grp));
    const i = 36 + 5;
    const x0 = x.get('body.0.conv2.weight')![i]!;
    expect(p.get('body.0.conv2.weight')![i]).toBeCloseTo(x0 - lr * x0 * (coef(groups.channels[1]!) + coef(groups.blocks[0]!)), 6);
    // A conv1 value (block group only).
    const y0 = x.get('body.1.conv1.weight')![7]!;
    expect(p.get('body.1.conv1.weight')![7]).toBeCloseTo(y0 - lr * (g.get('body.1.conv1.weight')![7]! + y0 * coef(groups.blocks[1]!)), 6);
  });

  it('OBProx takes penalty coupled for EDSR only, naming the field; the config refuses it for SwinIR', () => {
    const p = weights();
    const opt = new OBProx({ type: 'obprox', lambda: 1, proxSteps: 1, orthantSteps: 0, penalty: 'coupled' }, p, shapes);
    expect(opt.coupled!.channels).toHaveLength(4);
    expect([...opt.regularized].sort()).toEqual(groups.keys.sort());
    const swin = validateConfig({ family: 'swinir', embed_dim: 6, depths: [1], num_heads: [2], window_size: 4, mlp_ratio: 2 });
    const swinShapes = modelParamShapes(swin);
    const swinParams = new Map([...swinShapes].map(([k, s]) => [k, new Float32Array(s.reduce((a, b) => a * b, 1))]));
    expect(
      () => new OBProx({ type: 'obprox', lambda: 1, proxSteps: 1, orthantSteps: 0, penalty: 'coupled' }, swinParams, swinShapes),
    ).toThrow(/optim.penalty coupled applies to EDSR models only.*no parameter body.0.conv1.weight/);
    const cfg = (m: unknown) => ({ model: m, data: { dir: 'd' }, steps: 10, optim: { type: 'obprox', lambda: 1, penalty: 'coupled' } });
    expect(validateTrainConfig(cfg(model)).optim).toMatchObject({ type: 'obprox', penalty: 'coupled' });
    expect(() => validateTrainConfig(cfg(swin))).toThrow(/optim.penalty coupled applies to EDSR models only .*not swinir/);
  });
});
