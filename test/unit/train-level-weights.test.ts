import { describe, expect, it } from 'vitest';
import { Graph } from '../../engine/graph/graph';
import { float32Tensor } from '../../engine/io/tensor';
import { validateTrainConfig } from '../../engine/train/config';
import { distillationLoss, multiLapLoss, type LevelWeights } from '../../engine/train/losses';
import { distillCommand, distillConfigFields, type DistillFlags } from '../../scripts/cli/commands/distill';
import { randomData, relErr, runGraph } from './autodiff-helpers';

/*
 * A plain float64 reference of the MultiLap pyramid, written from the definition (Burt & Adelson
 * with the [1,4,6,4,1]/16 kernel, reflect padding, 2x2 average pool, zero insertion then 4 x blur),
 * independent of the constant-matrix implementation in engine/train/losses.ts.
 */
interface Plane {
  h: number;
  w: number;
  d: Float64Array;
}

const K = [1, 4, 6, 4, 1].map((v) => v / 16);
const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

function blur({ h, w, d }: Plane, gain = 1): Plane {
  const rows = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let t = -2; t <= 2; t++) rows[y * w + x]! += K[t + 2]! * d[y * w + reflect(x + t, w)]!;
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let t = -2; t <= 2; t++) out[y * w + x]! += gain * K[t + 2]! * rows[reflect(y + t, h) * w + x]!;
  return { h, w, d: out };
}

function down(p: Plane): Plane {
  const b = blur(p);
  const h = p.h / 2;
  const w = p.w / 2;
  const d = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      d[y * w + x] =
        (b.d[2 * y * p.w + 2 * x]! +
          b.d[2 * y * p.w + 2 * x + 1]! +
          b.d[(2 * y + 1) * p.w + 2 * x]! +
          b.d[(2 * y + 1) * p.w + 2 * x + 1]!) /
        4;
  return { h, w, d };
}

function up(p: Plane): Plane {
  const z = { h: 2 * p.h, w: 2 * p.w, d: new Float64Array(4 * p.h * p.w) };
  for (let y = 0; y < p.h; y++) for (let x = 0; x < p.w; x++) z.d[2 * y * z.w + 2 * x] = p.d[y * p.w + x]!;
  return blur(z, 4);
}

const minus = (a: Plane, b: Plane): Plane => ({ h: a.h, w: a.w, d: a.d.map((v, i) => v - b.d[i]!) });

function pyramid(p: Plane, levels: number): Plane[] {
  const out: Plane[] = [];
  let cur = p;
  for (let i = 0; i < levels - 1; i++) {
    const r = down(cur);
    out.push(minus(cur, up(r)));
    cur = r;
  }
  return [...out, cur];
}

/** Per pyramid level, mean |level| over all planes, for e and for e - G(e): [sharp terms, plain terms]. */
function levelMeans(pred: Float32Array, target: Float32Array, planes: number, h: number, w: number): [number[], number[]] {
  const sharp = new Array<number>(5).fill(0);
  const plain = new Array<number>(5).fill(0);
  const counts = new Array<number>(5).fill(0);
  const absSum = (p: Plane) => p.d.reduce((s, v) => s + Math.abs(v), 0);
  for (let c = 0; c < planes; c++) {
    const e: Plane = { h, w, d: Float64Array.from({ length: h * w }, (_, i) => pred[c * h * w + i]! - target[c * h * w + i]!) };
    pyramid(minus(e, blur(e)), 5).forEach((lv, i) => (sharp[i]! += absSum(lv)));
    pyramid(e, 5).forEach((lv, i) => {
      plain[i]! += absSum(lv);
      counts[i]! += lv.h * lv.w;
    });
  }
  return [sharp.map((s, i) => s / counts[i]!), plain.map((s, i) => s / counts[i]!)];
}

describe('MultiLap level weights', () => {
  const shape = [2, 3, 32, 48];
  const size = shape.reduce((a, b) => a * b);
  const pred = randomData(size, 11);
  const target = randomData(size, 12);
  const hr = randomData(size, 13);

  it("'paper' is sum 2^i and 'inverse' sum 2^-i of the pyramid terms, computed directly", async () => {
    const g = new Graph();
    const p = g.input('p', shape);
    const t = g.input('t', shape);
    const h = g.input('hr', shape);
    for (const w of ['paper', 'inverse'] as LevelWeights[]) {
      g.output(multiLapLoss(g, p, t, 5, w), `multilap_${w}`);
      g.output(distillationLoss(g, p, t, h, 0.25, w), `distill_${w}`);
    }
    g.output(multiLapLoss(g, p, t), 'multilap_default');
    const out = await runGraph(g, { p: float32Tensor(shape, pred), t: float32Tensor(shape, target), hr: float32Tensor(shape, hr) });
    const [sharp, plain] = levelMeans(pred, target, 6, 32, 48);
    const weighted = (f: (i: number) => number) => sharp.reduce((s, v, i) => s + f(i) * (v + plain[i]!), 0);
    const expected = { paper: weighted((i) => 2 ** i), inverse: weighted((i) => 2 ** -i) };
    const l1 = pred.reduce((s, v, i) => s + Math.abs(v - hr[i]!), 0) / size;
    const got = (name: string) => out[name]!.data as Float32Array;
    for (const w of ['paper', 'inverse'] as const) {
      expect(relErr(got(`multilap_${w}`), new Float32Array([expected[w]]))).toBeLessThan(1e-5);
      expect(relErr(got(`distill_${w}`), new Float32Array([expected[w] + 0.25 * l1]))).toBeLessThan(1e-5);
    }
    expect(got('multilap_default')[0]).toBe(got('multilap_paper')[0]);
    // The weightings must really differ on this input, or the checks above prove nothing about the option.
    expect(Math.abs(expected.paper - expected.inverse) / expected.paper).toBeGreaterThan(0.1);
  });
});

describe('loss.levelWeights in the trainer config', () => {
  const config = (loss: Record<string, unknown>) =>
    validateTrainConfig({ preset: 'edsr-mini', data: { dir: 'x' }, steps: 1, loss, teacher: { type: 'onnx', path: 't.onnx' } });

  it("defaults to 'paper', accepts 'inverse', and names the field on anything else", () => {
    expect(config({ type: 'distill' }).loss).toEqual({ type: 'distill', hrWeight: 0.1, levelWeights: 'paper' });
    expect(config({ type: 'distill', hrWeight: 0.5, levelWeights: 'inverse' }).loss).toEqual({
      type: 'distill',
      hrWeight: 0.5,
      levelWeights: 'inverse',
    });
    expect(() => config({ type: 'distill', levelWeights: 'flat' })).toThrow('loss.levelWeights must be paper or inverse, got "flat"');
    expect(() => config({ type: 'distill', levelWeights: 2 })).toThrow(/loss\.levelWeights/);
  });
});

describe('minisr distill --level-weights', () => {
  const parse = (...args: string[]) => {
    const cmd = distillCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });
    cmd.action(() => undefined); // parse flags only, do not train
    return cmd.parse(args, { from: 'user' }).opts<DistillFlags>();
  };

  it('parses paper or inverse into loss.levelWeights and rejects other names, naming the flag', () => {
    const f = parse('--level-weights', 'inverse', '--hr-weight', '0.2', '--student', 'edsr-mini', '--teacher', 't.onnx');
    expect(f.levelWeights).toBe('inverse');
    expect(distillConfigFields(f).loss).toEqual({ type: 'distill', hrWeight: 0.2, levelWeights: 'inverse' });
    expect(distillConfigFields(parse('--teacher', 't.onnx')).loss).toEqual({ type: 'distill' });
    expect(() => parse('--level-weights', 'flat')).toThrow(/--level-weights.*flat.*paper, inverse/);
  });
});
