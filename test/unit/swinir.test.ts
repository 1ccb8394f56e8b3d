import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { numel } from '../../engine/io/tensor';
import { swinir, type SwinIRConfig } from '../../engine/zoo/swinir';
import { invertPermutation, relayoutIndices, shiftMask, windowOrder } from '../../engine/zoo/swinir-windows';

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
  for (let wy = 0; wy < h / ws; wy++) for (let wx = 0; wx < w / ws; wx++) for (let iy = 0; iy < ws; iy++) for (let ix = 0; ix < ws; ix++) out.push(rolled[wy * ws + iy]![wx * ws + ix]!);
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
    for (const [h, w, ws, s] of [[16, 24, 8, 4], [8, 8, 8, 4], [12, 6, 3, 1], [16, 24, 8, 0]] as const) {
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
