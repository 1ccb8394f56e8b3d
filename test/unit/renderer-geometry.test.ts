import { describe, expect, it } from 'vitest';
import { fitView, planRegion, visibleRect, zoomAt } from '../../renderer/views/compare/geometry';
import { edsrCost } from '../../renderer/views/wizard/edsr-cost';

describe('EDSR cost in the renderer', () => {
  // Reference numbers from the engine's graph count (modelCost(presetConfig(...)) in engine/zoo/count.ts).
  it.each([
    [{ feats: 64, blocks: 16, scale: 2 as const }, 1_369_859, 632_497_766_400],
    [{ feats: 16, blocks: 8, scale: 2 as const }, 49_603, 23_290_675_200],
    [{ feats: 16, blocks: 8, scale: 3 as const }, 61_203, 29_594_419_200],
    [{ feats: 16, blocks: 8, scale: 4 as const }, 58_883, 42_666_393_600],
  ])('%o matches the engine count', (shape, params, flops) => {
    const c = edsrCost(shape);
    expect(c.params).toBe(params);
    expect(c.flops640x360).toBe(flops);
  });
});

describe('compare geometry', () => {
  const vp = { width: 800, height: 600 };
  const out = { width: 4000, height: 3000 };

  it('fits the whole image and fetches it downscaled to the viewport', () => {
    const v = fitView(vp, out);
    expect(v.zoom).toBeCloseTo(0.2);
    const p = planRegion(v, vp, out, 1)!;
    expect(p.own).toEqual({ left: 0, top: 0, width: 4000, height: 3000 });
    expect(p.maxSide).toBe(896); // 800 screen pixels, rounded up to a quarter step of 512
    expect(p.resample).toBe(false);
  });

  it('at 1:1 fetches only the visible rectangle, snapped to the grid, at full resolution', () => {
    const v = { zoom: 1, cx: 2000, cy: 1500 };
    const p = planRegion(v, vp, out, 1)!;
    const vis = visibleRect(v, vp, out)!;
    expect(p.own.left).toBeLessThanOrEqual(vis.left);
    expect(p.own.left + p.own.width).toBeGreaterThanOrEqual(vis.left + vis.width);
    expect(p.own.width).toBeLessThan(800 + 2 * 128);
    expect(p.maxSide).toBe(Math.max(p.own.width, p.own.height));
  });

  it('maps the original pane into its own pixels and asks for bicubic only when enlarged', () => {
    const v = { zoom: 4, cx: 2000, cy: 1500 };
    const p = planRegion(v, vp, out, 2)!;
    expect(p.resample).toBe(true);
    expect(p.out.left).toBe(p.own.left * 2);
    expect(p.own.left + p.own.width).toBeGreaterThanOrEqual((2000 + 100) / 2);
    expect(p.own.width * 2 * 4).toBeLessThan(800 + 2 * 256 + 1);
    expect(planRegion(fitView(vp, out), vp, out, 2)!.resample).toBe(false);
  });

  it('zooms around the pointer', () => {
    const v = { zoom: 1, cx: 2000, cy: 1500 };
    const z = zoomAt(v, 2, 0, 0, vp, out); // top-left corner of the viewport stays on output pixel (1600, 1200)
    expect(z.zoom).toBe(2);
    expect(z.cx - 400 / 2).toBeCloseTo(1600);
    expect(z.cy - 300 / 2).toBeCloseTo(1200);
  });
});
