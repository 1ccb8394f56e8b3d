import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { swinir, type SwinIRConfig } from '../../engine/zoo/swinir';
import { invertPermutation, relayoutIndices, shiftMask, shiftMaskEmbedding, windowOrder } from '../../engine/zoo/swinir-windows';
import { toOnnx } from '../../engine/graph/onnx';
import { float32Tensor, numel, type HostTensor } from '../../engine/io/tensor';
import { ModelSession } from '../../engine/runtime/session';

const MINI: Partial<SwinIRConfig> = { embed_dim: 24, depths: [4, 4, 4], num_heads: [6, 6, 6], window_size: 8, mlp_ratio: 2 };
const LIGHT: Partial<SwinIRConfig> = { embed_dim: 60, depths: [6, 6, 6, 6], num_heads: [6, 6, 6, 6], window_size: 8, mlp_ratio: 2 };

function built(partial: Partial<SwinIRConfig>, h = 16, w = 24): Graph {
  const g = new Graph();
  g.output(swinir.build(g, g.input('input', [1, 3, h, w]), swinir.validate(partial)), 'output');
  return g;
}

const learnableCount = (g: Graph) => g.learnableParams().reduce((n, v) => n + numel(v.shape), 0);

/** torch.roll(x, -s, dims=(1, 2)) followed by window_partition, written the direct way: raster index per window position. */
function naiveRollPartition(h: number, w: number, ws: number, s: number): number[] {
  const rolled: number[][] = [];
  for (let y = 0; y < h; y++) rolled.push(Array.from({ length: w }, (_, x) => ((y + s) % h) * w + ((x + s) % w)));
  const out: number[] = [];
  for (let wy = 0; wy < h / ws; wy++)
    for (let wx = 0; wx < w / ws; wx++)
      for (let iy = 0; iy < ws; iy++) for (let ix = 0; ix < ws; ix++) out.push(rolled[wy * ws + iy]![wx * ws + ix]!);
  return out;
}

describe('SwinIR parameter counts (learnable only)', () => {
  it('SwinIRmini has 98,868 and SwinIR-light 910,152', () => {
    expect(learnableCount(built(MINI))).toBe(98_868);
    expect(learnableCount(built(LIGHT))).toBe(910_152);
  });

  it('does not depend on the input size', () => {
    expect(learnableCount(built(MINI, 40, 40))).toBe(learnableCount(built(MINI, 8, 64)));
  });
});

describe('SwinIR graph', () => {
  it('uses the official key names and shapes', () => {
    const shapes = new Map([...built(MINI).params].map(([k, p]) => [k, p.value.shape]));
    expect(shapes.get('conv_first.weight')).toEqual([24, 3, 3, 3]);
    expect(shapes.get('patch_embed.norm.weight')).toEqual([24]);
    expect(shapes.get('layers.2.residual_group.blocks.3.attn.relative_position_bias_table')).toEqual([225, 6]);
    expect(shapes.get('layers.2.residual_group.blocks.3.attn.qkv.weight')).toEqual([72, 24]);
    expect(shapes.get('layers.0.residual_group.blocks.1.mlp.fc1.weight')).toEqual([48, 24]);
    expect(shapes.get('layers.1.conv.weight')).toEqual([24, 24, 3, 3]);
    expect(shapes.get('norm.bias')).toEqual([24]);
    expect(shapes.get('conv_after_body.weight')).toEqual([24, 24, 3, 3]);
    expect(shapes.get('upsample.0.weight')).toEqual([12, 24, 3, 3]);
    expect([...shapes.keys()].some((k) => swinir.isDerivedBuffer(k))).toBe(false);
  });

  it('pixelshuffle upsampler: conv_before_upsample, Upsample stages, conv_last; output scaled', () => {
    for (const upscale of [2, 3, 4] as const) {
      const g = built({ ...MINI, upsampler: 'pixelshuffle', upscale }, 8, 16);
      expect(g.outputs[0]!.shape).toEqual([1, 3, 8 * upscale, 16 * upscale]);
      const keys = [...g.params.keys()];
      expect(keys).toContain('conv_before_upsample.0.weight');
      expect(keys).toContain('conv_last.weight');
      expect(g.params.get('upsample.0.weight')!.value.shape).toEqual(upscale === 3 ? [576, 64, 3, 3] : [256, 64, 3, 3]);
      expect(keys.includes('upsample.2.weight')).toBe(upscale === 4);
    }
  });

  it('recognises the checkpoint buffers it recomputes', () => {
    expect(swinir.isDerivedBuffer('layers.0.residual_group.blocks.1.attn_mask')).toBe(true);
    expect(swinir.isDerivedBuffer('layers.0.residual_group.blocks.1.attn.relative_position_index')).toBe(true);
    expect(swinir.isDerivedBuffer('layers.0.residual_group.blocks.1.attn.relative_position_bias_table')).toBe(false);
    expect(swinir.inputMultiple(swinir.validate(MINI))).toBe(8);
    expect(swinir.scale(swinir.validate({ ...MINI, upscale: 3 }))).toBe(3);
  });

  it('rejects inputs that are not a multiple of the window, and bad configs, naming the field', () => {
    expect(() => built(MINI, 20, 24)).toThrow(/multiple of window_size 8/);
    expect(() => swinir.validate({ embed_dim: 25, num_heads: [6, 6, 6, 6] })).toThrow(/num_heads\[0\] = 6 does not divide embed_dim 25/);
    expect(() => swinir.validate({ depths: [2, 2], num_heads: [6] })).toThrow(/num_heads/);
    expect(() => swinir.validate({ upscale: 8 as 2 })).toThrow(/upscale/);
    expect(() => swinir.validate({ upsampler: 'nearest+conv' as 'pixelshuffle' })).toThrow(/upsampler/);
    expect(() => swinir.validate({ window_size: 0 })).toThrow(/window_size/);
  });
});

describe('SwinIR window tables', () => {
  it('window order equals roll(-shift) + window_partition for non-square sizes', () => {
    for (const [h, w, ws, s] of [
      [16, 24, 8, 4],
      [8, 8, 8, 4],
      [12, 6, 3, 1],
      [16, 24, 8, 0],
    ] as const) {
      expect(Array.from(windowOrder({ height: h, width: w, window: ws }, s))).toEqual(naiveRollPartition(h, w, ws, s));
    }
  });

  it('relayout indices compose: from order A to order B lands every token where B wants it', () => {
    const grid = { height: 16, width: 24, window: 8 };
    const [a, b] = [windowOrder(grid, 0), windowOrder(grid, 4)];
    const idx = relayoutIndices(a, b, a.length);
    // Tokens in layout A carry their raster id; gathering with idx must give layout B's raster ids.
    expect(Array.from(idx, (i) => a[i])).toEqual(Array.from(b));
    expect(Array.from(relayoutIndices(b, undefined, b.length), (i) => b[i])).toEqual(Array.from({ length: b.length }, (_, k) => k));
    expect(Array.from(invertPermutation(invertPermutation(b)))).toEqual(Array.from(b));
  });

  it('shift mask: only the last window row and column see more than one region', () => {
    const grid = { height: 16, width: 24, window: 8 };
    const m = shiftMask(grid, 4);
    const per = 64 * 64;
    const masked = (w: number) => m.subarray(w * per, (w + 1) * per).some((v) => v !== 0);
    // 2 x 3 windows: the last column (2, 5) and the last row (3, 4, 5).
    expect([0, 1, 2, 3, 4, 5].map(masked)).toEqual([false, false, true, true, true, true]);
    expect(shiftMask({ height: 8, width: 8, window: 8 }, 4).filter((v) => v === -100).length).toBe(64 * 64 - 4 * 16 * 16);
  });
});

describe('SwinIR shift mask as q/k channels', () => {
  it('same region gains exactly 100 over every other pair, as the official -100 mask', () => {
    for (const grid of [
      { height: 16, width: 24, window: 8 },
      { height: 8, width: 8, window: 8 },
      { height: 12, width: 6, window: 3 },
    ]) {
      const shift = Math.floor(grid.window / 2);
      const n = grid.window ** 2;
      const mask = shiftMask(grid, shift);
      const e = shiftMaskEmbedding(grid, shift);
      for (let w = 0; w < mask.length / (n * n); w++) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const dot = e[(w * n + i) * 2]! * e[(w * n + j) * 2]! + e[(w * n + i) * 2 + 1]! * e[(w * n + j) * 2 + 1]!;
            const same = mask[(w * n + i) * n + j] === 0;
            const sameRow = Array.from({ length: n }, (_, k) => mask[(w * n + i) * n + k] === 0);
            // Rows whose window has one region get no embedding at all (exact); others gain 100 on their region.
            const offset = sameRow.every(Boolean) ? 0 : 100;
            if (same) expect(dot).toBeCloseTo(offset, 4);
            else expect(dot).toBeLessThanOrEqual(1e-4);
          }
        }
      }
    }
  });
});

function seededWeights(g: Graph): Map<string, HostTensor> {
  let s = 99;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.2;
  return new Map(
    [...g.params].map(([k, p]) => [k, float32Tensor(p.value.shape, Float32Array.from({ length: numel(p.value.shape) }, rnd))]),
  );
}

async function run(bytes: Uint8Array, feeds: Record<string, HostTensor>): Promise<Float32Array> {
  const s = await ModelSession.create(bytes);
  try {
    return (await s.run(feeds)).output!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('SwinIR graph in onnxruntime', () => {
  const small: Partial<SwinIRConfig> = { embed_dim: 12, depths: [2, 1], num_heads: [2, 3], window_size: 4, mlp_ratio: 2 };
  const image = (n: number) =>
    float32Tensor(
      [n, 3, 8, 12],
      Float32Array.from({ length: n * 3 * 8 * 12 }, (_, i) => ((i * 37) % 101) / 101),
    );

  it('runs a batch of two like two single images (window orders and masks per batch item)', async () => {
    const one = built(small, 8, 12);
    const weights = seededWeights(one);
    const g2 = new Graph();
    g2.output(swinir.build(g2, g2.input('input', [2, 3, 8, 12]), swinir.validate(small)), 'output');
    const both = await run(toOnnx(g2, { params: 'initializers', weights }), { input: image(2) });
    const img = image(2);
    const half = img.data.length / 2;
    const first = await run(toOnnx(one, { params: 'initializers', weights }), {
      input: float32Tensor([1, 3, 8, 12], (img.data as Float32Array).slice(0, half)),
    });
    const second = await run(toOnnx(one, { params: 'initializers', weights }), {
      input: float32Tensor([1, 3, 8, 12], (img.data as Float32Array).slice(half)),
    });
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    expect(maxDiff(both.slice(0, first.length), first)).toBeLessThan(1e-5);
    expect(maxDiff(both.slice(first.length), second)).toBeLessThan(1e-5);
    expect(maxDiff(first, second)).toBeGreaterThan(1e-3);
  });

  it('gives the same output with parameters fed as inputs (training export) as with initializers', async () => {
    const g = built(small, 8, 12);
    const weights = seededWeights(g);
    const asInit = await run(toOnnx(g, { params: 'initializers', weights }), { input: image(1) });
    const asInputs = await run(toOnnx(g, { params: 'inputs' }), { input: image(1), ...Object.fromEntries(weights) });
    expect(Array.from(asInputs).every((v, i) => Math.abs(v - asInit[i]!) < 1e-5)).toBe(true);
  });
});
