import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImportanceReport, type EdsrBlocks, type ImportanceReport } from '../../engine/compress/importance';
import { runPruneJob } from '../../engine/compress/prune';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import { validateTrainConfig } from '../../engine/train/config';
import { Trainer } from '../../engine/train/trainer';
import { randomWeights } from '../../engine/zoo/random-weights';
import { validateConfig } from '../../engine/zoo/registry';
import { writeSmoothImages } from '../helpers/train-images';

let dir: string;
const model = validateConfig({ family: 'edsr', num_feat: 4, num_block: 2 });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-prune-'));
  await writeSmoothImages(dir, { count: 3, seed: 13, noise: [8, 8], size: [40, 32], prefix: 'img' });
  await saveSafetensors(path.join(dir, 'teacher.safetensors'), randomWeights(model, 4, 0.05));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function pruneConfig(overrides: Record<string, unknown> = {}, optim: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model,
    init: { weights: path.join(dir, 'teacher.safetensors') },
    data: { dir },
    steps: 12,
    batch: 2,
    patch: 8,
    seed: 3,
    optim: { type: 'obprox', lr: 1e-3, lambda: 1, proxSteps: 6, ...optim },
    schedule: { type: 'constant' },
    checkpointInterval: 4,
    cacheDir: path.join(dir, 'cache'),
    worker: false,
    threads: 1,
    ...overrides,
  };
}

describe('prune config', () => {
  it('validates obprox settings, naming the field', () => {
    const c = validateTrainConfig(pruneConfig({ steps: 10 }, { proxSteps: undefined }));
    expect(c.optim).toEqual({ type: 'obprox', lr: 1e-3, lambda: 1, proxSteps: 5, orthantSteps: 0, penalty: 'l1' });
    expect(validateTrainConfig(pruneConfig({}, { penalty: 'group' })).optim).toMatchObject({ type: 'obprox', penalty: 'group' });
    expect(() => validateTrainConfig(pruneConfig({}, { penalty: 'l2' }))).toThrow(/optim.penalty must be l1, group or coupled, got "l2"/);
    expect(c.emaDecay).toBe(0);
    expect(() => validateTrainConfig(pruneConfig({}, { lambda: undefined }))).toThrow(/optim.lambda \(the penalty weight\) is required/);
    expect(() => validateTrainConfig(pruneConfig({}, { lambda: -1 }))).toThrow(/optim.lambda must be a number in \[0/);
    expect(() => validateTrainConfig(pruneConfig({}, { proxSteps: 0 }))).toThrow(/optim.proxSteps must be an integer >= 1/);
    expect(() => validateTrainConfig(pruneConfig({}, { orthantSteps: 1.5 }))).toThrow(/optim.orthantSteps/);
    expect(() => validateTrainConfig(pruneConfig({}, { betas: [0.9, 0.99] }))).toThrow(/optim.betas does not apply to optim.type obprox/);
    expect(() => validateTrainConfig(pruneConfig({ emaDecay: 0.999 }))).toThrow(/emaDecay must be 0 with optim.type obprox/);
    expect(() => validateTrainConfig({ ...pruneConfig(), optim: { lr: 1e-3, lambda: 1 } })).toThrow(
      /optim.lambda does not apply to optim.type adam/,
    );
    expect(() => validateTrainConfig({ ...pruneConfig(), optim: { type: 'sgd' } })).toThrow(/optim.type must be adam, adamw or obprox/);
  });

  it('validates init, naming the field', () => {
    expect(
      validateTrainConfig(pruneConfig({ model: undefined, preset: 'edsr-mini', init: { weights: 'w.pth', preset: 'edsr-mini' } })).init,
    ).toEqual({ weights: 'w.pth', preset: 'edsr-mini' });
    expect(() => validateTrainConfig(pruneConfig({ init: { weights: '' } }))).toThrow(/init.weights must be a non-empty string/);
    expect(() => validateTrainConfig(pruneConfig({ init: { weights: 'w.pth', preset: 'edsr-baseline' } }))).toThrow(
      /init.preset edsr-baseline is not the model being trained/,
    );
    expect(() => validateTrainConfig(pruneConfig({ init: { weights: 'w.pth', key: 'params' } }))).toThrow(/unknown field init.key/);
  });

  it('a trainer without the OBProx-SG factory says where it comes from', async () => {
    await expect(new Trainer(validateTrainConfig(pruneConfig()), path.join(dir, 'no-factory'), { export: false }).run()).rejects.toThrow(
      /needs the OBProx-SG optimizer from engine\/compress/,
    );
  });
});

describe('prune run (tiny EDSR, real training step)', () => {
  it('starts from the init weights, writes sparse weights, model.onnx and importance.json; sparsity grows with lambda', async () => {
    const sparsity: number[] = [];
    for (const lambda of [0, 2, 5]) {
      const out = path.join(dir, `run-l${lambda}`);
      const r = await runPruneJob({ outDir: out, config: pruneConfig({}, { lambda }) });
      expect(r.train.step).toBe(12);
      expect(existsSync(path.join(out, 'model.onnx'))).toBe(true);
      const report = await readImportanceReport(r.reportPath!);
      expect(report.config).toEqual(model);
      const weights = (await readSafetensors(path.join(out, 'model.safetensors'))).tensors;
      const zeros = [...weights.values()].reduce((a, t) => a + (t.data as Float32Array).filter((v) => v === 0).length, 0);
      expect(report.zeros).toBe(zeros);
      sparsity.push(report.weightSparsity);
      // lambda 0 is plain SGD from the teacher: nothing is zeroed, and the weights moved only a little
      if (lambda === 0) {
        const teacher = randomWeights(model, 4, 0.05).get('body.0.conv1.weight')!.data as Float32Array;
        const now = weights.get('body.0.conv1.weight')!.data as Float32Array;
        const drift = now.reduce((a, v, i) => Math.max(a, Math.abs(v - teacher[i]!)), 0);
        expect(drift).toBeGreaterThan(0);
        expect(drift).toBeLessThan(0.05);
      }
    }
    expect(sparsity[0]).toBe(0);
    expect(sparsity[1]).toBeGreaterThan(0);
    expect(sparsity[2]).toBeGreaterThan(sparsity[1]!);
  }, 60_000);

  it('the group penalty empties channels that element-wise L1 at a higher sparsity leaves alive', async () => {
    // Lambdas chosen so that L1 zeroes more weights than the group penalty does (about 96% vs 93%).
    const run = async (penalty: 'l1' | 'group', lambda: number) =>
      (await runPruneJob({ outDir: path.join(dir, `run-${penalty}-${lambda}`), config: pruneConfig({}, { lambda, penalty }) })).report!;
    const group = await run('group', 2.7);
    const l1 = await run('l1', 4);
    expect(l1.weightSparsity).toBeGreaterThan(group.weightSparsity);
    expect(group.weightSparsity).toBeGreaterThan(0.8);
    const innerDead = (r: ImportanceReport) => (r.structure as EdsrBlocks).blocks.reduce((a, b) => a + 4 - b.innerAlive, 0);
    expect(l1.channels.aliveCount).toBe(4);
    expect(group.channels.aliveCount).toBeLessThan(4);
    expect(innerDead(group)).toBeGreaterThan(innerDead(l1) + 2);
    // Group mode zeroes a channel's bias with its row (L1 never touches biases).
    const weights = (await readSafetensors(path.join(dir, 'run-group-2.7', 'model.safetensors'))).tensors;
    const w = weights.get('conv_first.weight')!.data as Float32Array;
    const b = weights.get('conv_first.bias')!.data as Float32Array;
    const rowLen = w.length / 4;
    let zeroRows = 0;
    for (let o = 0; o < 4; o++)
      if (w.subarray(o * rowLen, (o + 1) * rowLen).every((v) => v === 0)) {
        zeroRows++;
        expect(b[o], `conv_first.bias[${o}]`).toBe(0);
      }
    expect(zeroRows).toBeGreaterThan(0);
  }, 60_000);

  it('the coupled penalty empties some feature channels and blocks, not all; the upsampler stays dense', async () => {
    // Lambdas probed on this fixture: up to 1.8 nothing dies, 1.9 two channels, 2.0 three channels
    // and block 1, from 2.2 every channel and block (the transition is steep).
    const run = async (lambda: number) =>
      (await runPruneJob({ outDir: path.join(dir, `run-coupled-${lambda}`), config: pruneConfig({}, { lambda, penalty: 'coupled' }) }))
        .report!;
    const blocksDead = (r: ImportanceReport) => (r.structure as EdsrBlocks).blocks.map((b) => b.dead);
    const mild = await run(1.9);
    const strong = await run(2);
    expect(mild.channels.aliveCount).toBeGreaterThan(strong.channels.aliveCount);
    expect(mild.channels.aliveCount).toBeLessThan(4);
    expect(strong.channels.aliveCount).toBeGreaterThan(0);
    expect(blocksDead(mild)).toEqual([false, false]);
    expect(blocksDead(strong)).toEqual([false, true]);
    const weights = (await readSafetensors(path.join(dir, 'run-coupled-2', 'model.safetensors'))).tensors;
    const t = (k: string) => weights.get(k)!.data as Float32Array;
    const row = (k: string, o: number) => {
      const w = t(k);
      const n = w.length / 4;
      return w.subarray(o * n, (o + 1) * n);
    };
    const writers = ['conv_first', 'body.0.conv2', 'body.1.conv2', 'conv_after_body'];
    strong.channels.alive.forEach((alive, c) => {
      const zero = writers.every((k) => row(`${k}.weight`, c).every((v) => v === 0) && t(`${k}.bias`)[c] === 0);
      expect(zero, `channel ${c}: every writer row and bias zero`).toBe(!alive);
    });
    expect(t('body.1.conv1.weight').every((v) => v === 0) && t('body.1.conv2.bias').every((v) => v === 0)).toBe(true);
    for (const k of ['upsample.0.weight', 'upsample.0.bias', 'conv_last.weight', 'conv_last.bias'])
      expect(
        t(k).some((v) => v === 0),
        k,
      ).toBe(false);
  }, 60_000);

  it('prunes a tiny SwinIR too: norms, biases and position tables stay dense', async () => {
    const swin = validateConfig({ family: 'swinir', embed_dim: 6, depths: [1, 1], num_heads: [2, 2], window_size: 4, mlp_ratio: 2 });
    const weights = path.join(dir, 'swin.safetensors');
    await saveSafetensors(weights, randomWeights(swin, 5, 0.05));
    const out = path.join(dir, 'run-swin');
    const r = await runPruneJob({
      outDir: out,
      config: pruneConfig({ model: swin, init: { weights }, steps: 4, patch: 8 }, { lambda: 5, proxSteps: 2 }),
    });
    expect(r.report!.weightSparsity).toBeGreaterThan(0);
    expect(r.report!.structure.family).toBe('swinir');
    const tensors = (await readSafetensors(path.join(out, 'model.safetensors'))).tensors;
    for (const [k, t] of tensors) {
      if (/norm|bias|relative_position/.test(k))
        expect(
          (t.data as Float32Array).some((v) => v === 0),
          k,
        ).toBe(false);
    }
  }, 60_000);

  it('is the training job with OBProx-SG: refuses another optimizer, holds while paused', async () => {
    const adam = pruneConfig({ optim: { type: 'adam', lr: 1e-3 } });
    await expect(runPruneJob({ outDir: path.join(dir, 'adam'), config: adam })).rejects.toThrow(/trains with optim.type obprox, got adam/);
    const t0 = Date.now();
    const phases: string[] = [];
    const r = await runPruneJob(
      { outDir: path.join(dir, 'paused'), config: pruneConfig({ steps: 2 }) },
      { isPaused: () => Date.now() - t0 < 300, onEvent: (e) => phases.push(e.type === 'status' ? e.phase : e.type) },
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(phases.indexOf('paused')).toBeGreaterThanOrEqual(0);
    expect(phases.indexOf('paused')).toBeLessThan(phases.indexOf('progress'));
    expect(r.report).toBeDefined();
  }, 60_000);

  it('an aborted prune run resumes with the optimizer in the same phase and ends where the whole run ends', async () => {
    const whole = await runPruneJob({ outDir: path.join(dir, 'whole'), config: pruneConfig() });
    const out = path.join(dir, 'resumed');
    const ac = new AbortController();
    const first = await runPruneJob(
      { outDir: out, config: pruneConfig() },
      { signal: ac.signal, onEvent: (e) => e.type === 'progress' && e.step === 9 && ac.abort() },
    );
    expect(first.train.aborted).toBe(true);
    expect(first.report).toBeUndefined();
    const state = JSON.parse(await readFile(path.join(out, 'checkpoints', 'step_0000009.json'), 'utf8'));
    expect(state.adamStep).toBe(9);
    const resumed = await runPruneJob({ outDir: out, resume: true });
    expect(resumed.train.history.loss).toEqual(whole.train.history.loss);
    const a = (await readSafetensors(path.join(dir, 'whole', 'model.safetensors'))).tensors;
    const b = (await readSafetensors(path.join(out, 'model.safetensors'))).tensors;
    for (const [k, t] of a) expect(Array.from(b.get(k)!.data as Float32Array)).toEqual(Array.from(t.data as Float32Array));
    expect(resumed.report!.zeros).toBe(whole.report!.zeros);
  }, 60_000);
});
