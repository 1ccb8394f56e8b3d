import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readImportanceReport } from '../compress/importance';
import { inheritanceBlocker, writeInheritedInit } from '../compress/inherit';
import { paramCount } from '../compress/shrink';
import { saveSafetensors } from '../io/checkpoint';
import type { TeacherConfig } from '../train/config';
import type { ModelCard } from '../zoo/card';
import { cardOfOnnxFile, weightsFromOnnx } from '../zoo/infer';
import { isPresetName, PRESET_NAMES, presetConfig } from '../zoo/presets';
import { validateConfig, type ModelConfig } from '../zoo/registry';
import { checkValScale, readTeacher, studentAtScale, studentScale, type TeacherRead } from './distill-scale';
import type { ModelCatalog } from './models';
import type { PathPolicy } from './paths';
import { reportPath } from './prune-reports';
import { ValidationError } from './schema';
import type { DistillTask, PruneTask } from './tasks';
import type { DistillRequest, JobInfo, PruneRequest, Settings } from './types';

/**
 * Distil and prune requests as training jobs: the teacher, the student, the run folder under
 * `<configDir>/runs` and the training config with the app's defaults, every path checked against
 * the allow-list and every refusal naming its field.
 */

export interface TrainingContext {
  readonly configDir: string;
  readonly models: ModelCatalog;
  readonly paths: PathPolicy;
  readonly settings: () => Settings;
}

/** Starts the job; called once the run folder and config are ready (a failure removes the folder). */
type Start<T> = (task: T, title: string, run: string) => JobInfo | Promise<JobInfo>;

/** OBProx-SG's base direction is plain SGD, which needs a far larger rate than Adam's (engine/compress/README.md). */
const PRUNE_LR = 1e-2;
/** A student config larger than this is refused (a typo such as num_feat 64000 would exhaust memory). */
const MAX_STUDENT_PARAMS = 50_000_000;
const TEACHER_PRESET_NEEDED = 'a checkpoint teacher (.pth, .safetensors) needs its architecture preset, e.g. edsr-baseline';

/** A run folder's name: what it trains, when, and a random tail. */
function runName(what: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${what}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** A teacher's name for a job title: the file name without its weights extension. */
function teacherName(teacher: string): string {
  return basename(teacher).replace(/\.(onnx|pth|pt|safetensors)$/i, '');
}

function unknownPreset(field: string, name: string): ValidationError {
  return new ValidationError(field, `unknown preset ${JSON.stringify(name)}; known: ${PRESET_NAMES.join(', ')}`);
}

/** The data folders, checked, as config fields: about ten points on the validation curve, at most every 500 steps. */
async function dataFields(
  ctx: TrainingContext,
  req: { dataDir: string; valDir?: string; steps: number },
): Promise<{ data: { dir: string; kind: 'hr' }; val?: { dir: string; interval: number } }> {
  const dataDir = await ctx.paths.check(req.dataDir, 'read');
  const valDir = req.valDir !== undefined ? await ctx.paths.check(req.valDir, 'read') : undefined;
  return {
    data: { dir: dataDir, kind: 'hr' },
    ...(valDir ? { val: { dir: valDir, interval: Math.max(1, Math.min(500, Math.floor(req.steps / 10))) } } : {}),
  };
}

/** What both jobs share: the cache, and the settings' threads and provider (a trial step decides; auto falls back to the CPU). */
function hostFields(ctx: TrainingContext): Record<string, unknown> {
  const s = ctx.settings();
  return { cacheDir: join(ctx.configDir, 'cache'), threads: s.threads, ep: s.ep };
}

/** Makes the run folder, builds the task in it and starts it; the folder goes if either fails. */
async function inRunFolder<T>(
  ctx: TrainingContext,
  run: string,
  build: (outDir: string) => Promise<T>,
  start: (task: T) => JobInfo | Promise<JobInfo>,
): Promise<JobInfo> {
  const outDir = join(ctx.configDir, 'runs', run);
  await mkdir(outDir, { recursive: true });
  try {
    return await start(await build(outDir));
  } catch (e) {
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
}

/** The teacher as the training engine wants it: a listed model's file, or a file the user chose. */
async function distillTeacher(ctx: TrainingContext, req: DistillRequest): Promise<TeacherConfig> {
  const listed = (await ctx.models.list()).some((m) => m.id === req.teacher);
  if (listed) return { type: 'onnx', path: await ctx.models.path(req.teacher) };
  const path = await ctx.paths.check(req.teacher, 'read');
  if (/\.onnx$/i.test(path)) return { type: 'onnx', path };
  if (!req.teacherPreset) throw new ValidationError('startDistill.params.0.teacherPreset', TEACHER_PRESET_NEEDED);
  if (!isPresetName(req.teacherPreset)) throw unknownPreset('startDistill.params.0.teacherPreset', req.teacherPreset);
  return { type: 'preset', preset: req.teacherPreset, weights: path };
}

/** The student: a preset, or a zoo config checked here (at its own scale; `studentAtScale` sets the request's). */
function studentModel(req: DistillRequest): { preset?: string; name: string; config: ModelConfig } {
  const field = 'startDistill.params.0';
  if ((req.student === undefined) === (req.studentConfig === undefined)) {
    throw new ValidationError(
      `${field}.student`,
      'give exactly one of student (a preset name) and studentConfig (a zoo config, e.g. from planCompression)',
    );
  }
  if (req.student !== undefined) {
    if (!isPresetName(req.student)) throw unknownPreset(`${field}.student`, req.student);
    return { preset: req.student, name: req.student, config: presetConfig(req.student) };
  }
  let model: ModelConfig;
  try {
    model = validateConfig(req.studentConfig);
  } catch (e) {
    throw new ValidationError(`${field}.studentConfig`, (e as Error).message);
  }
  const params = paramCount(model);
  if (params > MAX_STUDENT_PARAMS)
    throw new ValidationError(`${field}.studentConfig`, `has ${params} parameters; a student may have at most ${MAX_STUDENT_PARAMS}`);
  return { name: `${model.family}-student`, config: model };
}

/**
 * The request's init, else inheritance where it applies (it won over random init at equal steps;
 * README) and random weights otherwise. A report given where inheritance cannot apply is refused.
 */
async function initChoice(req: DistillRequest, teacher: TeacherRead, student: ModelConfig): Promise<'random' | 'inherit'> {
  if (req.init !== undefined) return req.init;
  const blocker = inheritanceBlocker(await teacher.config(), student);
  if (blocker && req.report !== undefined)
    throw new ValidationError('startDistill.params.0.report', `ranks the teacher for inheritance, which needs ${blocker}`);
  return blocker ? 'random' : 'inherit';
}

/**
 * `init: 'inherit'`: the student's start sliced out of the teacher (engine/compress/inherit.ts),
 * ranked by the stage-1 report when one is given, written into the run folder for the trainer.
 */
async function initFields(
  ctx: TrainingContext,
  req: DistillRequest,
  init: 'random' | 'inherit',
  teacher: TeacherConfig,
  student: ModelConfig,
  outDir: string,
): Promise<Record<string, unknown>> {
  const field = 'startDistill.params.0';
  if (init !== 'inherit') {
    if (req.report !== undefined) throw new ValidationError(`${field}.report`, "ranks the teacher for init 'inherit' only");
    return {};
  }
  let report: string | undefined;
  if (req.report !== undefined) {
    report = await reportPath(ctx.paths, ctx.configDir, req.report);
    await readImportanceReport(report).catch((e: Error) => {
      throw new ValidationError(`${field}.report`, e.message);
    });
  }
  const weights = join(outDir, 'inherit.safetensors');
  try {
    await writeInheritedInit(teacher, student, weights, report);
  } catch (e) {
    const msg = (e as Error).message;
    throw new ValidationError(`${field}.${/importance report/.test(msg) ? 'report' : 'init'}`, msg);
  }
  return { init: { weights } };
}

/** Stage 3: distil the teacher into the student (Adam, the distillation loss). */
export async function startDistillJob(ctx: TrainingContext, req: DistillRequest, start: Start<DistillTask>): Promise<JobInfo> {
  const student = studentModel(req);
  const teacher = await distillTeacher(ctx, req);
  const read = await readTeacher(ctx.models, req, teacher);
  const { scale, passes } = studentScale(req, read.scale);
  const model = studentAtScale(student, scale);
  const data = await dataFields(ctx, req);
  await checkValScale(ctx.paths, data.val?.dir, scale);
  const init = await initChoice(req, read, model);
  // The run, and the model it exports, say the student's scale: edsr-mini-x4-<time>-<tail>.
  const run = runName(`${student.name}-x${scale}`);
  const twice = passes > 1 ? ` (teacher run ${passes === 2 ? 'twice' : `${passes} times`})` : '';
  const title = `distil ${teacherName(req.teacher)} into ${student.name} x${scale}${twice}${init === 'inherit' ? ' (inherited)' : ''} (${req.steps} steps)`;
  return inRunFolder(
    ctx,
    run,
    async (outDir): Promise<DistillTask> => ({
      kind: 'distill',
      outDir,
      config: {
        ...(student.preset !== undefined ? { preset: student.preset } : {}),
        model,
        ...data,
        steps: req.steps,
        batch: req.batch,
        patch: req.patch,
        optim: { lr: req.lr },
        loss: { type: 'distill' },
        teacher,
        ...(await initFields(ctx, req, init, teacher, model, outDir)),
        ...hostFields(ctx),
      },
    }),
    (task) => start(task, title, run),
  );
}

/**
 * A prune teacher as init weights: a checkpoint the user chose (with its preset), or a listed
 * model whose ONNX initializers are written out as `<run>/teacher.safetensors`.
 */
async function pruneTeacher(ctx: TrainingContext, req: PruneRequest, outDir: string): Promise<Record<string, unknown>> {
  const field = 'startPrune.params.0';
  const listed = (await ctx.models.list()).some((m) => m.id === req.teacher);
  if (listed) {
    const onnx = await ctx.models.path(req.teacher);
    const bytes = await readFile(onnx);
    let card: ModelCard;
    try {
      card = await cardOfOnnxFile(onnx, bytes);
    } catch (e) {
      throw new ValidationError(
        `${field}.teacher`,
        `model ${req.teacher} has no model card, so its architecture is unknown: ${(e as Error).message}`,
      );
    }
    const weights = join(outDir, 'teacher.safetensors');
    await saveSafetensors(weights, weightsFromOnnx(bytes, card.config));
    return card.preset ? { preset: card.preset, init: { weights, preset: card.preset } } : { model: card.config, init: { weights } };
  }
  const path = await ctx.paths.check(req.teacher, 'read');
  if (/\.onnx$/i.test(path))
    throw new ValidationError(
      `${field}.teacher`,
      'an ONNX file that is not a listed model cannot be pruned: give a .pth or .safetensors checkpoint',
    );
  if (!req.teacherPreset) throw new ValidationError(`${field}.teacherPreset`, TEACHER_PRESET_NEEDED);
  if (!isPresetName(req.teacherPreset)) throw unknownPreset(`${field}.teacherPreset`, req.teacherPreset);
  return { preset: req.teacherPreset, init: { weights: path, preset: req.teacherPreset } };
}

/** Stage 1: fine-tune the teacher with OBProx-SG (L1), then its importance report. */
export async function startPruneJob(ctx: TrainingContext, req: PruneRequest, start: Start<PruneTask>): Promise<JobInfo> {
  const data = await dataFields(ctx, req);
  const run = runName('prune');
  const title = `prune ${teacherName(req.teacher)} (lambda ${req.lambda}, ${req.steps} steps)`;
  return inRunFolder(
    ctx,
    run,
    async (outDir): Promise<PruneTask> => ({
      kind: 'prune',
      outDir,
      config: {
        ...(await pruneTeacher(ctx, req, outDir)),
        ...data,
        steps: req.steps,
        batch: req.batch ?? 8,
        patch: req.patch ?? 32,
        optim: { type: 'obprox', lr: req.lr ?? PRUNE_LR, lambda: req.lambda },
        loss: { type: 'l1' },
        ...hostFields(ctx),
      },
    }),
    (task) => start(task, title, run),
  );
}
