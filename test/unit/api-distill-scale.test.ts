import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkValScale, studentScale } from '../../engine/api/distill-scale';
import type { EngineHost } from '../../engine/api/host';
import { createCpuHost } from '../helpers/cpu-host';
import { PathPolicy } from '../../engine/api/paths';
import { parseParams, type ValidationError } from '../../engine/api/schema';
import type { DistillRequest, EngineEvent, JobState } from '../../engine/api/types';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { writeRandomModel } from '../helpers/random-model';
import type * as FsPromises from 'node:fs/promises';

// Every readFile in this process (the host's; jobs run in worker threads), to count teacher reads.
const reads = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const readFile = (...args: Parameters<typeof real.readFile>) => (reads.push(String(args[0])), real.readFile(...args));
  return { ...real, readFile };
});

/**
 * Distillation through the engine API at x3 and x4: the request's scale is checked against what
 * the teacher reaches (a x2 teacher makes x4 in two passes, never x3) before any job starts, and
 * a x2 teacher distils a x4 student that is listed as a x4 model. Teachers and students are
 * *random-weight* EDSRmini; their pictures mean nothing.
 */

const SAMPLES = join(import.meta.dirname, '../../resources/samples');

describe('EngineHost distils at x3 and x4', () => {
  let dir: string;
  let root: string;
  let host: EngineHost;
  const events: EngineEvent[] = [];
  const until = (id: string) =>
    new Promise<JobState>((ok) => {
      const check = () => {
        const e = events.find((e) => e.type === 'job' && e.job.id === id && ['done', 'failed', 'cancelled'].includes(e.job.state));
        if (e?.type !== 'job') return;
        off();
        ok(e.job.state);
      };
      const off = host.onEvent(check);
      check();
    });
  const refusal = (req: Partial<DistillRequest>) =>
    host.startDistill({ ...base(), ...req }).then(
      (job) => `accepted: ${job.title}`,
      (e: ValidationError) => `${e.field}: ${e.message}`,
    );
  const base = (): DistillRequest => ({
    teacher: 'mini-x2',
    student: 'edsr-mini',
    steps: 2,
    batch: 1,
    patch: 8,
    lr: 1e-4,
    dataDir: join(root, 'data'),
  });
  const runs = async () => (await readdir(join(dir, 'config/runs')).catch(() => [])).sort();
  /** Starts a distillation, cancels it, and returns its title, run folder and written config. */
  const cancelledRun = async (req: DistillRequest, prefix: string) => {
    const job = await host.startDistill(req);
    await host.cancelJob(job.id);
    expect(await until(job.id)).toBe('cancelled');
    const run = (await runs()).find((r) => r.startsWith(prefix))!;
    const cfg = JSON.parse(await readFile(join(dir, 'config/runs', run, 'config.json'), 'utf8'));
    return { title: job.title, run, cfg };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-distill-scale-'));
    root = join(dir, 'root');
    await mkdir(join(root, 'data'), { recursive: true });
    await mkdir(join(dir, 'models'));
    await writeRandomModel(join(dir, 'models'), 'mini-x2', 'edsr-mini', 1);
    await writeRandomModel(join(dir, 'models'), 'mini-x3', 'edsr-mini', 2, 3);
    await saveSafetensors(join(root, 'teacher.safetensors'), randomWeights(presetConfig('edsr-mini'), 5, 0.05));
    for (const [i, name] of ['camera.png', 'coffee.png'].entries())
      await sharp(join(SAMPLES, name))
        .resize({ width: 48, height: 48, fit: 'cover' })
        .png()
        .toFile(join(root, `data/img${i}.png`));
    // Validation pairs as ../shared lays them out: Set5/x2 and Set5/x4 side by side.
    const hr = await sharp(join(SAMPLES, 'astronaut.png')).resize({ width: 32, height: 32, fit: 'cover' }).png().toBuffer();
    for (const s of [2, 4]) {
      await mkdir(join(root, `Set5/x${s}`), { recursive: true });
      await writeFile(join(root, `Set5/x${s}/000_HR.png`), hr);
      await sharp(hr)
        .resize(32 / s, 32 / s, { kernel: 'cubic' })
        .png()
        .toFile(join(root, `Set5/x${s}/000_LR.png`));
    }
    host = await createCpuHost(dir, [root], events);
  });
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('schema: scale is 2, 3 or 4', () => {
    expect(() => parseParams('startDistill', [{ ...base(), scale: 4 }])).not.toThrow();
    for (const scale of [8, 1, '4'])
      expect(() => parseParams('startDistill', [{ ...base(), scale }])).toThrow(
        expect.objectContaining({ field: 'startDistill.params.0.scale' }),
      );
  });

  it('refuses a scale the teacher cannot reach, inheritance across passes, and validation pairs of another scale, before any job', async () => {
    const before = await runs();
    expect(await refusal({ scale: 3 })).toBe(
      'startDistill.params.0.scale: invalid startDistill.params.0.scale: a x2 teacher cannot make x3 (it makes x2 and x4); pick a x3 teacher',
    );
    // A checkpoint teacher is its preset's scale (edsr-mini: x2).
    expect(await refusal({ teacher: join(root, 'teacher.safetensors'), teacherPreset: 'edsr-mini', scale: 3 })).toMatch(
      /^startDistill.params.0.scale: .*a x2 teacher cannot make x3/,
    );
    expect(await refusal({ teacher: 'mini-x3', scale: 4 })).toMatch(
      /^startDistill.params.0.scale: .*a x3 teacher cannot make x4 \(it makes x3\); pick a x4 teacher$/,
    );
    expect(await refusal({ teacher: 'mini-x3', scale: 2 })).toMatch(/^startDistill.params.0.scale: .*a x3 teacher cannot make x2/);
    expect(await refusal({ scale: 4, init: 'inherit' })).toMatch(
      /^startDistill.params.0.init: .*needs the teacher at the student's own scale, and this x2 teacher makes x4 in 2 passes/,
    );
    expect(await refusal({ scale: 4, valDir: join(root, 'Set5/x2') })).toBe(
      `startDistill.params.0.valDir: invalid startDistill.params.0.valDir: holds x2 pairs (000_HR.png), and the student is x4: use ${join(root, 'Set5/x4')}`,
    );
    expect(await refusal({ valDir: join(root, 'data') })).toMatch(/^startDistill.params.0.valDir: .*no NAME_HR\/NAME_LR image pairs/);
    expect(await refusal({ teacher: join(root, 'teacher.safetensors'), teacherPreset: 'edsr-giant' })).toMatch(
      /^startDistill.params.0.teacherPreset: .*unknown preset "edsr-giant"/,
    );
    await writeFile(join(root, 'broken.onnx'), 'not a model');
    expect(await refusal({ teacher: join(root, 'broken.onnx') })).toMatch(/^startDistill.params.0.teacher: /);
    expect(await runs()).toEqual(before);
  });

  it('a teacher of no student scale (x8, x1) is refused naming scale; a x2 teacher run twice is 2 passes', () => {
    for (const t of [8, 1])
      expect(() => studentScale(base(), t)).toThrow(/startDistill.params.0.scale: a x\d teacher makes no x2, x3 or x4 student/);
    expect(studentScale({ ...base(), scale: 4 }, 2)).toEqual({ scale: 4, passes: 2 });
    expect(studentScale(base(), 3)).toEqual({ scale: 3, passes: 1 });
  });

  it('names the folder of the right scale only where the allow-list lets it be read', async () => {
    const onlyX2 = new PathPolicy();
    await onlyX2.allowRoot(join(root, 'Set5/x2'), 'read');
    await expect(checkValScale(onlyX2, join(root, 'Set5/x2'), 2)).resolves.toBeUndefined();
    await expect(checkValScale(onlyX2, join(root, 'Set5/x2'), 4)).rejects.toThrow(
      /holds x2 pairs \(000_HR.png\), and the student is x4: give x4 pairs, or no validation folder$/,
    );
  });

  it('without a scale the student takes the teacher’s: a x3 teacher makes an x3 student, inherited from it by default', async () => {
    const { title, run, cfg } = await cancelledRun({ ...base(), teacher: 'mini-x3', steps: 100_000 }, 'edsr-mini-x3-');
    expect(title).toBe('distil mini-x3 into edsr-mini x3 (inherited) (100000 steps)');
    expect(cfg).toMatchObject({ preset: 'edsr-mini', model: { family: 'edsr', upscale: 3 } });
    expect(cfg.init).toEqual({ weights: join(dir, 'config/runs', run, 'inherit.safetensors') });
  });

  it("an explicit init 'random' opts out of inheritance at the teacher's scale", async () => {
    const { title, run, cfg } = await cancelledRun({ ...base(), init: 'random', steps: 100_000 }, 'edsr-mini-x2-');
    expect(title).toBe('distil mini-x2 into edsr-mini x2 (100000 steps)');
    expect(cfg).toMatchObject({ model: { upscale: 2 } });
    expect(cfg).not.toHaveProperty('init');
    expect(await readdir(join(dir, 'config/runs', run))).not.toContain('inherit.safetensors');
  });

  it('reads an unlisted ONNX teacher once for its scale and the default init', async () => {
    const teacher = await writeRandomModel(root, 'unlisted-x2', 'edsr-mini', 7);
    reads.length = 0;
    // x4 from this x2 teacher: inheritance is judged (and blocked) on the config that read gave.
    const job = await host.startDistill({ ...base(), teacher, scale: 4, steps: 100_000 });
    const teacherReads = reads.filter((p) => p === teacher).length;
    await host.cancelJob(job.id);
    expect(await until(job.id)).toBe('cancelled');
    expect(teacherReads).toBe(1);
    expect(job.title).toBe('distil unlisted-x2 into edsr-mini x4 (teacher run twice) (100000 steps)');
    // At its own scale the same read's config lets inheritance be the default.
    const x2 = await host.startDistill({ ...base(), teacher, steps: 100_000 });
    expect(x2.title).toBe('distil unlisted-x2 into edsr-mini x2 (inherited) (100000 steps)');
    await host.cancelJob(x2.id);
    expect(await until(x2.id)).toBe('cancelled');
  });

  it('a x2 teacher run twice distils a x4 student, exported and listed as a x4 model named so', async () => {
    const job = await host.startDistill({ ...base(), scale: 4, valDir: join(root, 'Set5/x4') });
    expect(job.title).toBe('distil mini-x2 into edsr-mini x4 (teacher run twice) (2 steps)');
    expect(await until(job.id)).toBe('done');
    const done = events.find((e) => e.type === 'distill-done' && e.jobId === job.id) as Extract<EngineEvent, { type: 'distill-done' }>;
    expect(done.model).toMatchObject({ id: expect.stringMatching(/^edsr-mini-x4-\d{8}-\d{6}-[0-9a-f]{4}$/), scale: 4, source: 'user' });
    expect(done.model.label).toMatch(/ x4$/);
    // Validated on the x4 pairs: the card's metrics name that set.
    expect(Object.keys(done.model.psnr ?? {})).toEqual(['Set5/x4']);
    expect((await host.listModels()).find((m) => m.id === done.model.id)?.scale).toBe(4);
    const run = (await runs()).find((r) => r === done.model.id)!;
    const cfg = JSON.parse(await readFile(join(dir, 'config/runs', run, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ preset: 'edsr-mini', model: { upscale: 4 }, teacher: { type: 'onnx' } });
    // Inheritance cannot hold across scales: the default falls back to random weights, without a refusal.
    expect(cfg).not.toHaveProperty('init');
  });
});
