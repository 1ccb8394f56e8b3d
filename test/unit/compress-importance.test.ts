import { describe, expect, it } from 'vitest';
import { analyzeImportance, type EdsrBlocks, type SwinirStages } from '../../engine/compress/importance';
import { float32Tensor, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';
import { Rng } from '../../engine/train/rng';
import { exportOnnx } from '../../engine/zoo/build';
import { randomWeights } from '../../engine/zoo/random-weights';
import { validateConfig, type ModelConfig } from '../../engine/zoo/registry';

type Weights = Map<string, Float32Array>;

function weightsOf(config: ModelConfig, seed: number): Weights {
  return new Map([...randomWeights(config, seed, 0.2)].map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]));
}

/** Sets w[o, i, ...] for every o (rows: axis 'out') or every i (cols: axis 'in') of channel ch. */
function setChannel(w: Weights, key: string, shape: number[], axis: 'out' | 'in', ch: number, value: (n: number) => number): void {
  const d = w.get(key)!;
  const [out, cin] = shape as [number, number];
  const taps = d.length / (out * cin);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < cin; i++) {
      if ((axis === 'out' ? o : i) !== ch) continue;
      for (let t = 0; t < taps; t++) d[(o * cin + i) * taps + t] = value((o * cin + i) * taps + t);
    }
}

async function forward(config: ModelConfig, w: Weights, input: HostTensor): Promise<Float32Array> {
  const weights = new Map([...w].map(([k, d]) => [k, float32Tensor(shapeOf(config, k, d.length), d)]));
  const session = await ModelSession.create(exportOnnx(config, weights, { height: 8, width: 8 }), { threads: 1 });
  try {
    return (await session.run({ input })).output!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const shapeCache = new Map<string, readonly number[]>();
function shapeOf(config: ModelConfig, key: string, n: number): readonly number[] {
  const cached = shapeCache.get(`${JSON.stringify(config)}/${key}`);
  if (cached) return cached;
  const t = randomWeights(config, 1).get(key)!;
  expect(t.data.length).toBe(n);
  shapeCache.set(`${JSON.stringify(config)}/${key}`, t.shape);
  return t.shape;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe('EDSR importance', () => {
  const C = 4;
  const config = validateConfig({ family: 'edsr', num_feat: C, num_block: 3, res_scale: 1, img_range: 1 });
  const conv = [C, C, 3, 3];
  /** Channel 1 never read, channel 2 never written, channel 3 unread in B but read in R; block 1 zero conv2, block 2 dead ReLUs. */
  function handMade(): Weights {
    const w = weightsOf(config, 5);
    const zero = () => 0;
    for (let b = 0; b < 3; b++) setChannel(w, `body.${b}.conv1.weight`, conv, 'in', 1, zero);
    setChannel(w, 'conv_after_body.weight', conv, 'in', 1, zero);
    setChannel(w, 'upsample.0.weight', [4 * C, C, 3, 3], 'in', 1, zero);
    setChannel(w, 'conv_first.weight', [C, 3, 3, 3], 'out', 2, zero);
    w.get('conv_first.bias')![2] = 0;
    for (let b = 0; b < 3; b++) {
      setChannel(w, `body.${b}.conv2.weight`, conv, 'out', 2, zero);
      w.get(`body.${b}.conv2.bias`)![2] = 0;
    }
    setChannel(w, 'conv_after_body.weight', conv, 'out', 2, zero);
    w.get('conv_after_body.bias')![2] = 0;
    for (let b = 0; b < 3; b++) setChannel(w, `body.${b}.conv1.weight`, conv, 'in', 3, zero);
    setChannel(w, 'conv_after_body.weight', conv, 'in', 3, zero);
    w.get('body.1.conv2.weight')!.fill(0);
    w.get('body.1.conv2.bias')!.fill(0);
    w.get('body.2.conv1.weight')!.fill(0);
    w.get('body.2.conv1.bias')!.fill(-0.1);
    w.get('body.2.conv2.bias')!.fill(0);
    return w;
  }

  it('finds the dead feature channels and blocks of hand-made weights', () => {
    const r = analyzeImportance(config, handMade());
    expect(r.channels.alive).toEqual([true, false, false, true]);
    expect(r.channels.aliveCount).toBe(2);
    expect(r.channels.exact).toBe(true);
    const blocks = (r.structure as EdsrBlocks).blocks;
    expect(blocks.map((b) => b.dead)).toEqual([false, true, true]);
    expect(blocks.map((b) => b.innerAlive)).toEqual([C, 0, 0]);
    expect(blocks[0]!.gain).toBeGreaterThan(0);
    expect(blocks[1]!.gain).toBe(0);
    expect(r.zeros).toBeGreaterThan(0);
    expect(r.sparsity).toBeCloseTo(r.zeros / r.params, 12);
    const first = r.layers.find((l) => l.key === 'conv_first.weight')!;
    expect(first.outZeroFraction).toEqual([0, 0, 1, 0]);
    expect(first.outL1[2]).toBe(0);
    // dead channels rank below live ones
    expect(Math.max(r.channels.l1[1]!, r.channels.l1[2]!)).toBeLessThan(Math.min(r.channels.l1[0]!, r.channels.l1[3]!));
  });

  it('what it calls dead does not change the output; what it calls alive does', async () => {
    const rng = Rng.seeded(2);
    const input = float32Tensor(
      [1, 3, 8, 8],
      Float32Array.from({ length: 192 }, () => rng.next()),
    );
    const base = handMade();
    const ref = await forward(config, base, input);
    const perturb = (edit: (w: Weights) => void) => {
      const w = new Map([...base].map(([k, d]) => [k, Float32Array.from(d)]));
      edit(w);
      return forward(config, w, input);
    };
    const noise = () => rng.uniform(-0.5, 0.5);
    // Channel 1 is never read: whatever writes it does not matter.
    const ch1 = await perturb((w) => {
      setChannel(w, 'conv_first.weight', [C, 3, 3, 3], 'out', 1, noise);
      for (let b = 0; b < 3; b++) setChannel(w, `body.${b}.conv2.weight`, conv, 'out', 1, noise);
      setChannel(w, 'conv_after_body.weight', conv, 'out', 1, noise);
    });
    // Channel 2 is never written: whatever reads it does not matter.
    const ch2 = await perturb((w) => {
      for (let b = 0; b < 3; b++) setChannel(w, `body.${b}.conv1.weight`, conv, 'in', 2, noise);
      setChannel(w, 'upsample.0.weight', [4 * C, C, 3, 3], 'in', 2, noise);
    });
    // Block 1's conv1 feeds a zero conv2.
    const block1 = await perturb((w) => w.get('body.1.conv1.weight')!.forEach((_, i, a) => (a[i] = noise())));
    // Channel 3 is read through R (upsample.0): its writers matter.
    const ch3 = await perturb((w) => setChannel(w, 'conv_first.weight', [C, 3, 3, 3], 'out', 3, noise));
    expect(maxDiff(ch1, ref)).toBeLessThan(1e-6);
    expect(maxDiff(ch2, ref)).toBeLessThan(1e-6);
    expect(maxDiff(block1, ref)).toBeLessThan(1e-6);
    expect(maxDiff(ch3, ref)).toBeGreaterThan(1e-3);
  });

  it('rejects weights that do not fit the model, naming the key', () => {
    const w = weightsOf(config, 1);
    w.delete('body.0.conv1.bias');
    expect(() => analyzeImportance(config, w)).toThrow('body.0.conv1.bias');
    const w2 = weightsOf(config, 1);
    w2.set('conv_last.weight', new Float32Array(3));
    expect(() => analyzeImportance(config, w2)).toThrow(/conv_last\.weight has 3 values/);
  });
});

describe('SwinIR importance', () => {
  const config = validateConfig({ family: 'swinir', embed_dim: 6, depths: [2, 2, 2], num_heads: [2, 2, 2], window_size: 4, mlp_ratio: 2 });

  it('finds the identity layers (N_l) and stages (N_b) of hand-made weights; channels are ranked, never declared dead', () => {
    const w = weightsOf(config, 7);
    for (const k of ['layers.0.residual_group.blocks.1.attn.proj', 'layers.0.residual_group.blocks.1.mlp.fc2']) {
      w.get(`${k}.weight`)!.fill(0);
      w.get(`${k}.bias`)!.fill(0);
    }
    // Layer 0 of stage 2: attention off, the MLP's hidden layer zero (GELU(0) = 0) and fc2 bias zero.
    w.get('layers.2.residual_group.blocks.0.attn.proj.weight')!.fill(0);
    w.get('layers.2.residual_group.blocks.0.attn.proj.bias')!.fill(0);
    w.get('layers.2.residual_group.blocks.0.mlp.fc1.weight')!.fill(0);
    w.get('layers.2.residual_group.blocks.0.mlp.fc1.bias')!.fill(0);
    w.get('layers.2.residual_group.blocks.0.mlp.fc2.bias')!.fill(0);
    // Only attention off in layer 1 of stage 2: still alive.
    w.get('layers.2.residual_group.blocks.1.attn.proj.weight')!.fill(0);
    w.get('layers.2.residual_group.blocks.1.attn.proj.bias')!.fill(0);
    w.get('layers.1.conv.weight')!.fill(0);
    w.get('layers.1.conv.bias')!.fill(0);
    const r = analyzeImportance(config, w);
    const stages = (r.structure as SwinirStages).stages;
    expect(stages.map((s) => s.dead)).toEqual([false, true, false]);
    expect(stages[1]!.gain).toBe(0);
    expect(stages.map((s) => s.layers.map((l) => l.dead))).toEqual([
      [false, true],
      [false, false],
      [true, false],
    ]);
    expect(stages[0]!.layers[1]!.gain).toBe(0);
    expect(stages[2]!.layers[1]!.gain).toBeGreaterThan(0);
    expect(r.channels.exact).toBe(false);
    expect(r.channels.alive.every(Boolean)).toBe(true);
    expect(r.channels.l1.every((v) => v > 0)).toBe(true);
    // relative position tables and norms are not in the per-layer weight statistics
    expect(r.layers.some((l) => l.key.includes('relative_position') || l.key.includes('norm'))).toBe(false);
  });
});
