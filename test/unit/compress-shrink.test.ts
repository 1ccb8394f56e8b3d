import { describe, expect, it } from 'vitest';
import { analyzeImportance, type ImportanceReport } from '../../engine/compress/importance';
import { paramCount, shrink } from '../../engine/compress/shrink';
import { buildModel } from '../../engine/zoo/build';
import { countParams } from '../../engine/zoo/count';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import type { ModelConfig } from '../../engine/zoo/registry';

function reportOf(config: ModelConfig, edit?: (w: Map<string, Float32Array>) => void): ImportanceReport {
  const w = new Map([...randomWeights(config, 3)].map(([k, t]) => [k, t.data as Float32Array]));
  edit?.(w);
  return analyzeImportance(config, w);
}

const edsrTeacher = reportOf(presetConfig('edsr-baseline'));
const swinTeacher = reportOf(presetConfig('swinir-light'));
const swinHeads = [6, 6, 6, 6];

describe('shrink: the paper targets', () => {
  it('EDSR-baseline at a 49,603-parameter budget is EDSRmini: 16 features, 8 blocks', () => {
    const r = shrink(edsrTeacher, { params: 49_603, resScale: 2 });
    expect(r.sizes).toEqual({ feats: 16, blocks: 8 });
    expect(r.params).toBe(49_603);
    expect(r.config).toEqual(presetConfig('edsr-mini'));
    expect(r.bounds).toEqual({ feats: 64, blocks: 16 });
    expect(r.keep.channels).toHaveLength(16);
    expect(r.keep.blocks).toHaveLength(8);
  });

  it('SwinIR-light at a 98,868-parameter budget is SwinIRmini: embed 24, depths [4, 4, 4]', () => {
    const r = shrink(swinTeacher, { params: 98_868 });
    expect(r.sizes).toEqual({ feats: 24, blocks: 3, layers: 4 });
    expect(r.params).toBe(98_868);
    expect(r.config).toEqual(presetConfig('swinir-mini'));
  });

  it('explicit sizes give that architecture and its count', () => {
    const r = shrink(edsrTeacher, { feats: 16, blocks: 8 });
    expect(r.params).toBe(49_603);
    expect(r.config).toMatchObject({ family: 'edsr', num_feat: 16, num_block: 8, res_scale: 1 });
    const s = shrink(swinTeacher, { feats: 24, blocks: 3, layers: 4 });
    expect(s.params).toBe(98_868);
  });
});

describe('shrink: at the scale the student is trained at', () => {
  it('a 49,603 budget holds at x2, x3 and x4 with the upsampler of that scale; x3/x4 get a smaller body', () => {
    const at = (scale: 2 | 3 | 4) => shrink(edsrTeacher, { params: 49_603, resScale: 2, scale });
    const x2 = at(2);
    expect(x2.config).toEqual(presetConfig('edsr-mini'));
    for (const scale of [3, 4] as const) {
      const r = at(scale);
      expect(r.config).toMatchObject({ family: 'edsr', upscale: scale });
      expect(r.params).toBeLessThanOrEqual(49_603);
      // Counted on the model built at that scale, not on the x2 one.
      expect(countParams(buildModel(r.config, { height: 4, width: 4 }).graph)).toBe(r.params);
      // x2's 16 x 8 with this scale's upsampler would not fit.
      expect(paramCount(presetConfig('edsr-mini', { scale }))).toBeGreaterThan(49_603);
      expect(r.sizes.feats * r.sizes.blocks).toBeLessThan(16 * 8);
    }
  });

  it('SwinIR at x4: the budget holds with its x4 upsampler', () => {
    const r = shrink(swinTeacher, { params: 98_868, scale: 4 });
    expect(r.config).toMatchObject({ family: 'swinir', upscale: 4 });
    expect(r.params).toBeLessThanOrEqual(98_868);
    expect(countParams(buildModel(r.config, { height: 8, width: 8 }).graph)).toBe(r.params);
  });
});

describe('shrink: budgets and bounds', () => {
  it('never exceeds the budget, and uses it: one more block would not fit', () => {
    for (const budget of [20_000, 75_000, 150_000, 400_000]) {
      for (const teacher of [edsrTeacher, swinTeacher]) {
        const r = shrink(teacher, { params: budget });
        expect(r.params).toBeLessThanOrEqual(budget);
        expect(paramCount(r.config)).toBe(r.params);
        if (r.sizes.blocks < r.bounds.blocks) {
          const c = r.config;
          const bigger =
            c.family === 'edsr'
              ? { ...c, num_block: c.num_block + 1 }
              : c.family !== 'swinir'
                ? c
                : { ...c, depths: [...c.depths, c.depths[0]!], num_heads: swinHeads.slice(0, c.depths.length + 1) };
          expect(paramCount(bigger)).toBeGreaterThan(budget);
        }
      }
    }
  });

  it('near the largest fitting size, the shape closest to the teacher wins (slack)', () => {
    const exact = shrink(edsrTeacher, { params: 300_000, slack: 0 });
    const balanced = shrink(edsrTeacher, { params: 300_000 });
    expect(exact.params).toBeGreaterThanOrEqual(balanced.params);
    expect(balanced.params).toBeGreaterThanOrEqual(0.98 * exact.params);
    const skew = (s: { feats: number; blocks: number }) => Math.abs(Math.log(s.feats / 64) - Math.log(s.blocks / 16));
    expect(skew(balanced.sizes)).toBeLessThan(skew(exact.sizes));
    expect(() => shrink(edsrTeacher, { params: 300_000, slack: 1 })).toThrow(/slack must be in \[0, 1\)/);
  });

  it('a size fixed by the caller is kept while the others are searched', () => {
    const r = shrink(edsrTeacher, { params: 60_000, blocks: 4 });
    expect(r.sizes.blocks).toBe(4);
    expect(r.params).toBeLessThanOrEqual(60_000);
    expect(paramCount({ ...r.config, num_feat: r.sizes.feats + 4 } as ModelConfig)).toBeGreaterThan(60_000);
  });

  it('dead channels and identity blocks bound the sizes; the kept ones are the live, highest-ranked', () => {
    const cfg = presetConfig('edsr-mini');
    const report = reportOf(cfg, (w) => {
      // channel 5 never read; blocks 2 and 6 zero residual branches
      for (let b = 0; b < 8; b++) {
        const c1 = w.get(`body.${b}.conv1.weight`)!;
        for (let o = 0; o < 16; o++) c1.fill(0, (o * 16 + 5) * 9, (o * 16 + 6) * 9);
      }
      for (const k of ['conv_after_body.weight', 'upsample.0.weight']) {
        const d = w.get(k)!;
        for (let o = 0; o < d.length / (16 * 9); o++) d.fill(0, (o * 16 + 5) * 9, (o * 16 + 6) * 9);
      }
      for (const b of [2, 6]) {
        w.get(`body.${b}.conv2.weight`)!.fill(0);
        w.get(`body.${b}.conv2.bias`)!.fill(0);
      }
    });
    const r = shrink(report, {});
    expect(r.bounds).toEqual({ feats: 15, blocks: 6 });
    expect(r.sizes).toEqual({ feats: 15, blocks: 6 });
    expect(r.keep.channels).not.toContain(5);
    expect(r.keep.blocks).toEqual([0, 1, 3, 4, 5, 7]);
    expect(() => shrink(report, { feats: 16 })).toThrow(/feats 16 exceeds .*15: alive feature channels/);
    expect(() => shrink(report, { blocks: 7 })).toThrow(/blocks 7 exceeds/);
  });

  it('a report with every block the identity says so instead of searching an empty range', () => {
    const report = reportOf(presetConfig('edsr-mini'), (w) => {
      for (let b = 0; b < 8; b++) for (const k of ['weight', 'bias']) w.get(`body.${b}.conv2.${k}`)!.fill(0);
    });
    expect(() => shrink(report, { params: 49603 })).toThrow(/the report leaves no blocks \(the prune run zeroed them all/);
  });

  it('rejects impossible or misplaced targets, naming them', () => {
    expect(() => shrink(edsrTeacher, { params: 100 })).toThrow(/no architecture within 100 parameters: the smallest allowed here has \d+/);
    expect(() => shrink(edsrTeacher, { layers: 2 })).toThrow(/layers \(N_l\) applies to SwinIR only/);
    expect(() => shrink(swinTeacher, { resScale: 2 })).toThrow(/resScale applies to EDSR only/);
    expect(() => shrink(swinTeacher, { feats: 25 })).toThrow(/feats 25 must be a multiple of every head count/);
    expect(() => shrink(edsrTeacher, { params: -5 })).toThrow(/params must be a positive integer/);
  });
});
