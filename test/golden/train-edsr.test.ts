/**
 * From-scratch EDSRmini training on ../shared/datasets/train291, validated on Set5 x2 (EMA
 * weights, PSNR-Y): the loss falls and PSNR rises above bicubic (33.67 dB); then a run that is
 * aborted half-way and resumed repeats the uninterrupted run's loss at every step.
 * Sized for this 2-core machine: 250 steps of batch 8, LR patch 32 take ~1-2 minutes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateTrainConfig } from '../../engine/train/config';
import { Trainer } from '../../engine/train/trainer';
import { readCard } from '../../engine/zoo/card';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const available = sharedAvailable('EDSRmini training golden (datasets/train291, datasets/Set5)');
const BICUBIC_SET5 = 33.67;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.runIf(available)('EDSRmini from scratch on train291', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const base = (over: Record<string, unknown>) =>
    validateTrainConfig({
      preset: 'edsr-mini',
      data: { dir: sharedPath('datasets/train291') },
      batch: 8,
      patch: 32,
      seed: 1,
      optim: { lr: 2e-3 },
      schedule: { type: 'cosine', etaMin: 1e-5 },
      // Kept between runs (the train291 crops take a while to make); a clean clone makes it once.
      cacheDir: path.resolve(import.meta.dirname, '../../node_modules/.cache/minisr-test'),
      ...over,
    });

  it('loss falls and Set5 PSNR-Y rises above bicubic; the EMA export carries the measured PSNR', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-train-golden-'));
    const out = path.join(dir, 'scratch');
    const cfg = base({ steps: 250, val: { dir: sharedPath('datasets/Set5/x2'), interval: 125 }, checkpointInterval: 125 });
    const r = await new Trainer(cfg, out).run();
    const loss = r.history.loss;
    console.log(
      `train golden: loss first 25 ${mean(loss.slice(0, 25)).toFixed(4)}, last 25 ${mean(loss.slice(-25)).toFixed(4)}; Set5 PSNR-Y ${r.history.val.map((v) => `${v.step}:${v.psnr.toFixed(3)}`).join(' ')}`,
    );
    expect(loss).toHaveLength(250);
    expect(mean(loss.slice(-25))).toBeLessThan(0.6 * mean(loss.slice(0, 25)));
    const [mid, end] = r.history.val;
    expect(end!.step).toBe(250);
    expect(end!.psnr).toBeGreaterThan(mid!.psnr);
    expect(end!.psnr).toBeGreaterThan(BICUBIC_SET5);
    const card = await readCard(r.exported!.card);
    expect(card.metrics?.['Set5/x2']?.psnr).toBeCloseTo(end!.psnr, 6);
    expect(card.params).toBe(49603);
    expect((await readFile(r.exported!.onnx)).length).toBeGreaterThan(49603 * 4);
  }, 400_000);

  it('an aborted and resumed run continues the same loss curve exactly', async () => {
    dir ??= await mkdtemp(path.join(tmpdir(), 'minisr-train-golden-'));
    const cfg = base({ steps: 40, batch: 4, patch: 24, checkpointInterval: 10, worker: true });
    const whole = await new Trainer(cfg, path.join(dir, 'whole'), { export: false }).run();

    const out = path.join(dir, 'killed');
    const ac = new AbortController();
    const first = new Trainer(cfg, out, { export: false });
    first.on('progress', (p) => p.step === 20 && ac.abort());
    const half = await first.run(ac.signal);
    expect(half.aborted).toBe(true);
    expect(half.step).toBe(20);

    const rest = await new Trainer(cfg, out, { resume: true, export: false }).run();
    expect(rest.step).toBe(40);
    expect(rest.history.loss).toEqual(whole.history.loss);
    expect(mean(whole.history.loss.slice(-10))).toBeLessThan(mean(whole.history.loss.slice(0, 10)));
  }, 200_000);
});
