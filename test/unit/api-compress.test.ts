import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineHost } from '../../engine/api/host';
import { createCpuHost } from '../helpers/cpu-host';
import { parseParams, ValidationError } from '../../engine/api/schema';
import type { EngineEvent, JobState, PruneSummary } from '../../engine/api/types';
import { readImportanceReport } from '../../engine/compress/importance';
import { shrink } from '../../engine/compress/shrink';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import { weightsFromOnnx } from '../../engine/zoo/infer';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { writeRandomModel } from '../helpers/random-model';

/**
 * Stages 1 and 2 through the engine API: a prune job on a *random-weight* EDSRmini teacher (so
 * sparsity means nothing beyond "the L1 step zeroes weights"), planning from its report, and a
 * distillation into the planned config.
 */

const SAMPLES = join(import.meta.dirname, '../../resources/samples');

describe('EngineHost compression stages', () => {
  let dir: string;
  let root: string;
  let host: EngineHost;
  const events: EngineEvent[] = [];
  const until = (id: string, states: JobState[]) =>
    new Promise<JobState>((ok) => {
      const check = () => {
        const e = events.find((e) => e.type === 'job' && e.job.id === id && states.includes(e.job.state));
        if (e?.type !== 'job') return;
        off();
        ok(e.job.state);
      };
      const off = host.onEvent(check);
      check();
    });
  let summary: PruneSummary;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-api-compress-'));
    root = join(dir, 'root');
    await mkdir(join(root, 'data'), { recursive: true });
    await mkdir(join(dir, 'models'));
    await writeRandomModel(join(dir, 'models'), 'mini-random-x2', 'edsr-mini', 3);
    for (const [i, name] of ['camera.png', 'coffee.png', 'chelsea.png'].entries()) {
      await sharp(join(SAMPLES, name))
        .resize({ width: 64, height: 64, fit: 'cover' })
        .png()
        .toFile(join(root, `data/img${i}.png`));
    }
    // Validation pairs in the benchmark layout (NNN_HR / NNN_LR).
    await mkdir(join(root, 'val'));
    for (const [i, name] of ['astronaut.png', 'coffee.png'].entries()) {
      const hr = await sharp(join(SAMPLES, name)).resize({ width: 32, height: 32, fit: 'cover' }).png().toBuffer();
      await writeFile(join(root, `val/00${i}_HR.png`), hr);
      await sharp(hr)
        .resize(16, 16, { kernel: 'cubic' })
        .png()
        .toFile(join(root, `val/00${i}_LR.png`));
    }
    await saveSafetensors(join(root, 'teacher.safetensors'), randomWeights(presetConfig('edsr-mini'), 5, 0.05));
    host = await createCpuHost(dir, [root], events);
  });
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('schema: prune and plan requests are strict and bounded', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (e instanceof ValidationError) return e.field;
      }
      return 'accepted';
    };
    const prune = { teacher: 'm', dataDir: '/d', steps: 10, lambda: 1e-3 };
    expect(field(() => parseParams('startPrune', [prune]))).toBe('accepted');
    expect(field(() => parseParams('startPrune', [{ ...prune, lambda: -1 }]))).toBe('startPrune.params.0.lambda');
    expect(field(() => parseParams('startPrune', [{ ...prune, steps: 0 }]))).toBe('startPrune.params.0.steps');
    expect(field(() => parseParams('startPrune', [{ ...prune, optimizer: 'adam' }]))).toBe('startPrune.params.0');
    expect(field(() => parseParams('planCompression', [{ report: '/r.json', feats: 0 }]))).toBe('planCompression.params.0.feats');
    expect(field(() => parseParams('planCompression', [{ report: '/r.json', params: 1.5 }]))).toBe('planCompression.params.0.params');
    expect(field(() => parseParams('planCompression', [{ report: '/r.json', params: 9, scale: 4 }]))).toBe('accepted');
    expect(field(() => parseParams('planCompression', [{ report: '/r.json', params: 9, scale: 8 }]))).toBe(
      'planCompression.params.0.scale',
    );
    const distill = { teacher: 'm', steps: 1, batch: 1, patch: 16, lr: 1e-4, dataDir: '/d' };
    expect(field(() => parseParams('startDistill', [{ ...distill, studentConfig: { family: 'edsr', num_feat: 8 } }]))).toBe('accepted');
    expect(field(() => parseParams('startDistill', [{ ...distill, studentConfig: { num_feat: 8 } }]))).toBe(
      'startDistill.params.0.studentConfig.family',
    );
    expect(field(() => parseParams('startDistill', [{ ...distill, studentConfig: { family: 'edsr', x: { y: 1 } } }]))).toBe(
      'startDistill.params.0.studentConfig.x',
    );
  });

  it('refuses prune requests it cannot honour, naming what is wrong', async () => {
    const base = {
      teacher: join(root, 'teacher.safetensors'),
      teacherPreset: 'edsr-mini',
      dataDir: join(root, 'data'),
      steps: 4,
      lambda: 1,
    };
    await expect(host.startPrune({ ...base, teacherPreset: undefined })).rejects.toThrow(
      /startPrune.params.0.teacherPreset: .*needs its architecture preset/,
    );
    await expect(host.startPrune({ ...base, teacherPreset: 'edsr-giant' })).rejects.toThrow(/unknown preset "edsr-giant"/);
    await expect(host.startPrune({ ...base, teacher: '/etc/teacher.pth' })).rejects.toThrow(/not allowed to read/);
    await expect(host.startPrune({ ...base, dataDir: dir })).rejects.toThrow(/not allowed to read/);
    await writeFile(join(root, 'foreign.onnx'), 'x');
    await expect(host.startPrune({ ...base, teacher: join(root, 'foreign.onnx') })).rejects.toThrow(
      /cannot be pruned: give a .pth or .safetensors/,
    );
    // Refused requests leave no run folders behind.
    expect(await readdir(join(dir, 'config/runs')).catch(() => [])).toEqual([]);
  });

  it('prunes a listed model (weights read from its ONNX): train events, then the report summary', async () => {
    const job = await host.startPrune({
      teacher: 'mini-random-x2',
      dataDir: join(root, 'data'),
      valDir: join(root, 'val'),
      steps: 6,
      lambda: 0.05,
      batch: 2,
      patch: 16,
      lr: 0.05,
    });
    expect(job.kind).toBe('prune');
    expect(await until(job.id, ['done', 'failed', 'cancelled'])).toBe('done');
    const train = events.filter((e) => e.type === 'train' && e.jobId === job.id);
    expect([...new Set(train.map((e) => (e as { step: number }).step))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(train.every((e) => e.type === 'train' && Number.isFinite(e.loss))).toBe(true);
    // Validation every step (a tenth of 6, at least 1): PSNR points on the same stream.
    const psnr = train.flatMap((e) => (e.type === 'train' && e.valPsnr !== undefined ? [e.valPsnr] : []));
    expect(psnr.length).toBeGreaterThanOrEqual(6);
    expect(psnr.every((p) => p > 0 && p < 100)).toBe(true);
    const done = events.find((e) => e.type === 'prune-done' && e.jobId === job.id) as Extract<EngineEvent, { type: 'prune-done' }>;
    summary = done.result;
    // The finished job names its report, so a page loaded later can find it.
    expect((await host.listJobs()).find((j) => j.id === job.id)).toMatchObject({ state: 'done', output: summary.reportPath });
    const report = await readImportanceReport(summary.reportPath);
    expect(summary).toMatchObject({
      family: 'edsr',
      params: 49_603,
      zeros: report.zeros,
      teacher: { feats: 16, blocks: 8 },
      channels: { count: 16, alive: report.channels.aliveCount, exact: true },
    });
    expect(summary.weightSparsity).toBeGreaterThan(0); // 6 prox steps of lr x lambda = 2.5e-3 zero the smallest of a 0.05-scale init
    expect(summary.layers.find((l) => l.key === 'conv_first.weight')!.sparsity).toBe(
      report.layers.find((l) => l.key === 'conv_first.weight')!.sparsity,
    );
    expect(summary.bounds).toEqual({ feats: report.channels.aliveCount, blocks: summary.blocks.alive });
    // The run folder holds the teacher's weights as they came from the ONNX file, and the prune config.
    const cfg = JSON.parse(await readFile(join(summary.reportPath, '../config.json'), 'utf8'));
    expect(cfg).toMatchObject({ preset: 'edsr-mini', optim: { type: 'obprox', lambda: 0.05, lr: 0.05 }, init: { preset: 'edsr-mini' } });
  });

  it('pauses a prune between steps, resumes it, and cancels it', async () => {
    const job = await host.startPrune({
      teacher: join(root, 'teacher.safetensors'),
      teacherPreset: 'edsr-mini',
      dataDir: join(root, 'data'),
      steps: 100_000,
      lambda: 0.01,
      batch: 1,
      patch: 16,
    });
    const steps = () => events.filter((e) => e.type === 'train' && e.jobId === job.id).length;
    await new Promise<void>((ok) => {
      const off = host.onEvent(() => steps() >= 2 && (off(), ok()));
    });
    await host.pauseJob(job.id);
    await new Promise((r) => setTimeout(r, 300)); // the step in flight may still report
    const held = steps();
    await new Promise((r) => setTimeout(r, 700));
    expect(steps()).toBe(held);
    // Held by the trainer's own pause() (it reports the phase), not by a sleeping worker.
    expect(events.some((e) => e.type === 'progress' && e.jobId === job.id && e.detail === 'paused')).toBe(true);
    await host.resumeJob(job.id);
    await new Promise<void>((ok) => {
      const off = host.onEvent(() => steps() > held && (off(), ok()));
    });
    await host.cancelJob(job.id);
    expect(await until(job.id, ['done', 'failed', 'cancelled'])).toBe('cancelled');
    expect(events.some((e) => e.type === 'prune-done' && e.jobId === job.id)).toBe(false);
  });

  it('plans a compact student from the report, and refuses bad targets naming the field', async () => {
    const plan = await host.planCompression({ report: summary.reportPath, feats: 4, blocks: 2 });
    expect(plan).toMatchObject({
      sizes: { feats: 4, blocks: 2 },
      bounds: summary.bounds,
      teacherParams: 49_603,
      config: { family: 'edsr', num_feat: 4, num_block: 2 },
    });
    // EDSR x2 with 4 features, 2 blocks: 3x3 convs 3->4, 5 x 4->4, 4->16, 4->3 with biases.
    expect(plan.params).toBe(9 * 3 * 4 + 4 + 5 * (9 * 16 + 4) + (9 * 4 * 16 + 16) + (9 * 4 * 3 + 3));
    expect(plan.gflops640x360).toBeGreaterThan(0);
    const budget = await host.planCompression({ report: summary.reportPath, params: 5000 });
    expect(budget.params).toBeLessThanOrEqual(5000);
    // At x4 the plan counts the second 4->16 upsample conv, in the budget too.
    const x4 = await host.planCompression({ report: summary.reportPath, feats: 4, blocks: 2, scale: 4 });
    expect(x4).toMatchObject({ scale: 4, config: { upscale: 4 } });
    expect(x4.params).toBe(plan.params + 9 * 4 * 16 + 16);
    expect(x4.gflops640x360).toBeGreaterThan(plan.gflops640x360);
    expect(plan.scale).toBe(2);
    const x4budget = await host.planCompression({ report: summary.reportPath, params: budget.params, scale: 4 });
    expect(x4budget.params).toBeLessThanOrEqual(budget.params);
    expect(x4budget).toMatchObject({ scale: 4, config: { upscale: 4 } });
    const refused = async (req: Parameters<EngineHost['planCompression']>[0]) => {
      try {
        await host.planCompression(req);
      } catch (e) {
        return { field: (e as ValidationError).field, message: (e as Error).message };
      }
      throw new Error('accepted');
    };
    expect(await refused({ report: summary.reportPath })).toMatchObject({ field: 'planCompression.params.0', message: /give a target/ });
    expect(await refused({ report: summary.reportPath, feats: summary.bounds!.feats + 4 })).toMatchObject({
      field: 'planCompression.params.0.feats',
      message: /exceeds what the report allows/,
    });
    expect(await refused({ report: summary.reportPath, layers: 2 })).toMatchObject({
      field: 'planCompression.params.0.layers',
      message: /SwinIR only/,
    });
    expect(await refused({ report: summary.reportPath, params: 10 })).toMatchObject({
      field: 'planCompression.params.0.params',
      message: /no architecture within 10/,
    });
    await writeFile(join(root, 'bad.json'), '{"schema": "nope"}');
    expect(await refused({ report: join(root, 'bad.json'), params: 5000 })).toMatchObject({ field: 'planCompression.params.0.report' });
    await expect(host.planCompression({ report: '/etc/importance.json', params: 5000 })).rejects.toThrow(/not allowed to read/);
  });

  it('reads a report back: one its own run wrote, or one in an allowed folder (e.g. from minisr prune)', async () => {
    expect(await host.readPruneReport(summary.reportPath)).toEqual(summary);
    await copyFile(summary.reportPath, join(root, 'cli-importance.json'));
    expect(await host.readPruneReport(join(root, 'cli-importance.json'))).toEqual({
      ...summary,
      reportPath: join(root, 'cli-importance.json'),
    });
    await expect(host.readPruneReport(join(dir, 'config/settings.json'))).rejects.toThrow(/not allowed to read/);
    await expect(host.readPruneReport(join(root, 'bad.json'))).rejects.toMatchObject({ field: 'readPruneReport.params.0' });
  });

  it('distils into a planned config (studentConfig) and refuses both or neither student', async () => {
    const plan = await host.planCompression({ report: summary.reportPath, feats: 4, blocks: 1 });
    const base = { teacher: 'mini-random-x2', steps: 2, batch: 1, patch: 16, lr: 1e-4, dataDir: join(root, 'data') };
    await expect(host.startDistill(base)).rejects.toThrow(/startDistill.params.0.student: give exactly one of student/);
    await expect(host.startDistill({ ...base, student: 'edsr-mini', studentConfig: plan.config })).rejects.toThrow(/give exactly one/);
    await expect(host.startDistill({ ...base, studentConfig: { family: 'edsr', num_feat: -3 } })).rejects.toThrow(
      /startDistill.params.0.studentConfig: .*num_feat/,
    );
    await expect(host.startDistill({ ...base, studentConfig: { family: 'edsr', num_feat: 4096, num_block: 64 } })).rejects.toThrow(
      /a student may have at most/,
    );
    const job = await host.startDistill({ ...base, studentConfig: plan.config });
    expect(await until(job.id, ['done', 'failed', 'cancelled'])).toBe('done');
    const done = events.find((e) => e.type === 'distill-done' && e.jobId === job.id) as Extract<EngineEvent, { type: 'distill-done' }>;
    expect(done.model).toMatchObject({ family: 'edsr', params: plan.params, source: 'user', compact: true });
  });

  it("init 'inherit': the student starts sliced out of the teacher, ranked by the stage-1 report; refusals name their field", async () => {
    const plan = await host.planCompression({ report: summary.reportPath, feats: 4, blocks: 2, resScale: 2 });
    const base = {
      teacher: 'mini-random-x2',
      studentConfig: plan.config,
      steps: 1,
      batch: 1,
      patch: 16,
      lr: 1e-4,
      dataDir: join(root, 'data'),
    };
    const runs = async () => (await readdir(join(dir, 'config/runs'))).sort();
    const before = await runs();
    const fieldOf = (req: Parameters<EngineHost['startDistill']>[0]) =>
      host.startDistill(req).then(
        () => 'accepted',
        (e: ValidationError) => `${e.field}: ${e.message}`,
      );
    expect(await fieldOf({ ...base, init: 'random', report: summary.reportPath })).toMatch(
      /^startDistill.params.0.report: .*'inherit' only/,
    );
    // Without an init, a SwinIR student starts from random weights, so a ranking report has nothing to rank for.
    expect(await fieldOf({ ...base, studentConfig: undefined, student: 'swinir-mini', report: summary.reportPath })).toMatch(
      /^startDistill.params.0.report: .*ranks the teacher for inheritance, which needs an EDSR teacher and student; here edsr and swinir$/,
    );
    expect(await fieldOf({ ...base, studentConfig: undefined, student: 'swinir-mini', init: 'inherit' })).toMatch(
      /^startDistill.params.0.init: .*needs EDSR models/,
    );
    // A report of another teacher (here: its res_scale changed) is refused, not silently misapplied.
    const other = JSON.parse(await readFile(summary.reportPath, 'utf8'));
    other.config.res_scale = 1;
    await writeFile(join(root, 'other-importance.json'), JSON.stringify(other));
    expect(await fieldOf({ ...base, init: 'inherit', report: join(root, 'other-importance.json') })).toMatch(
      /^startDistill.params.0.report: .*not of this teacher/,
    );
    expect(await fieldOf({ ...base, init: 'inherit', report: '/etc/importance.json' })).toMatch(/not allowed to read/);
    expect(await runs()).toEqual(before);

    const job = await host.startDistill({ ...base, init: 'inherit', report: summary.reportPath });
    expect(job.title).toMatch(/\(inherited\)/);
    expect(await until(job.id, ['done', 'failed', 'cancelled'])).toBe('done');
    const [run] = (await runs()).filter((r) => !before.includes(r));
    const cfg = JSON.parse(await readFile(join(dir, 'config/runs', run!, 'config.json'), 'utf8'));
    const file = join(dir, 'config/runs', run!, 'inherit.safetensors');
    expect(cfg.init).toEqual({ weights: file });
    // Exactly the channels and blocks stage 2 keeps for this report, sliced from the teacher's weights.
    const { keep } = shrink(await readImportanceReport(summary.reportPath), { feats: 4, blocks: 2, resScale: 2 });
    const inherited = await readSafetensors(file);
    expect(inherited.metadata).toMatchObject({
      'minisr.inherit.channels': keep.channels.join(','),
      'minisr.inherit.blocks': keep.blocks.join(','),
    });
    const teacher = weightsFromOnnx(await readFile(join(dir, 'models/mini-random-x2.onnx')), presetConfig('edsr-mini'));
    const bias = inherited.tensors.get('conv_first.bias')!.data as Float32Array;
    const tBias = teacher.get('conv_first.bias')!.data as Float32Array;
    expect(Array.from(bias)).toEqual(keep.channels.map((c) => tBias[c]));
  });
});
