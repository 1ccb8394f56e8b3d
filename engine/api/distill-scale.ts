import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { teacherConfig } from '../compress/inherit';
import { pairFolder } from '../image/pairs';
import type { TeacherConfig } from '../train/config';
import { modelFromOnnxFile, type UpscaleModel } from '../upscale/model';
import { reachingPasses } from '../upscale/pipeline';
import { presetConfig } from '../zoo/presets';
import { resolveArch, validateConfig, type ModelConfig } from '../zoo/registry';
import type { ModelCatalog } from './models';
import type { PathPolicy } from './paths';
import { ValidationError } from './schema';
import type { DistillRequest } from './types';

/**
 * The scale a distillation trains its student at, settled before any job starts: the request's
 * `scale`, else the teacher's. The teacher must reach it in one pass or in several (the teacher
 * cache runs a x2 teacher twice for a x4 student, as `minisr upscale -s 4` does); inheritance
 * slices the teacher's upsampler, so it needs the teacher at the student's own scale; and paired
 * validation images must be of that scale.
 */

const FIELD = 'startDistill.params.0';
/** The scales a student can be distilled at (the zoo's EDSR and SwinIR upsamplers). */
const STUDENT_SCALES = [2, 3, 4] as const;

const reaches = (scale: number, teacher: number): boolean => reachingPasses(scale, teacher) !== undefined;

/** What the request path reads of the teacher, once: its scale, and its config for inheritance's check. */
export interface TeacherRead {
  scale: number;
  /** The teacher's zoo config, or why it has none (`teacherConfig`); a listed model's card is read only when asked. */
  config(): Promise<ModelConfig | Error>;
}

/**
 * The teacher as the engine learns it cheaply: a listed model's card, a checkpoint's preset, else
 * the ONNX file itself (its card or import metadata, its declared shapes, or one 16x16 trial run),
 * whose read also gives its config: the file is not read again for inheritance. A file that
 * cannot be read as an upscaler is refused here.
 */
export async function readTeacher(models: ModelCatalog, req: DistillRequest, teacher: TeacherConfig): Promise<TeacherRead> {
  const config = () => teacherConfig(teacher);
  if (teacher.type === 'preset') return { scale: resolveArch(presetConfig(teacher.preset)).scale, config };
  const listed = (await models.list()).find((m) => m.id === req.teacher);
  if (listed && listed.scale >= 2) return { scale: listed.scale, config };
  let model: UpscaleModel;
  try {
    model = await modelFromOnnxFile(teacher.path);
  } catch (e) {
    throw new ValidationError(`${FIELD}.teacher`, (e as Error).message);
  }
  const own = model.config ?? new Error('it has no model card, beside it or in its metadata');
  return { scale: model.scale, config: () => Promise.resolve(own) };
}

/** The student's scale and the teacher passes that make its targets; refused where the teacher cannot reach it, or inheritance cannot hold. */
export function studentScale(req: DistillRequest, teacher: number): { scale: number; passes: number } {
  const scale = req.scale ?? teacher;
  if (!(STUDENT_SCALES as readonly number[]).includes(scale))
    throw new ValidationError(`${FIELD}.scale`, `a x${teacher} teacher makes no x2, x3 or x4 student`);
  const passes = reachingPasses(scale, teacher);
  if (passes === undefined) {
    const offered = STUDENT_SCALES.filter((s) => reaches(s, teacher)).map((s) => `x${s}`);
    throw new ValidationError(
      `${FIELD}.scale`,
      `a x${teacher} teacher cannot make x${scale}${offered.length ? ` (it makes ${offered.join(' and ')})` : ''}; pick a x${scale} teacher`,
    );
  }
  if (req.init === 'inherit' && passes > 1)
    throw new ValidationError(
      `${FIELD}.init`,
      `inheritance needs the teacher at the student's own scale, and this x${teacher} teacher makes x${scale} in ${passes} passes; start from random weights, or pick a x${scale} teacher`,
    );
  return { scale, passes };
}

/** The student's config at `scale` (a preset's own upsampler for it, as `minisr distill --scale` builds it). */
export function studentAtScale(student: { preset?: string; config: ModelConfig }, scale: number): ModelConfig {
  if (student.preset !== undefined) return presetConfig(student.preset, { scale });
  const own = resolveArch(student.config).scale;
  if (own === scale) return student.config;
  if (!('upscale' in student.config))
    throw new ValidationError(`${FIELD}.scale`, `a ${student.config.family} student config sets its own scale (x${own})`);
  try {
    return validateConfig({ ...student.config, upscale: scale });
  } catch (e) {
    throw new ValidationError(`${FIELD}.scale`, (e as Error).message);
  }
}

/**
 * Paired validation images of another scale are refused at the call (the job would stop at its
 * start), pointing at the folder of the right scale beside them (Set5/x4 beside Set5/x2) where
 * the allow-list lets it be read.
 */
export async function checkValScale(paths: PathPolicy, valDir: string | undefined, scale: number): Promise<void> {
  if (valDir === undefined) return;
  const field = `${FIELD}.valDir`;
  const { pairs, scale: s } = await pairFolder(valDir).catch((e: Error) => {
    throw new ValidationError(field, e.message);
  });
  if (s === scale) return;
  const sibling = join(dirname(valDir), `x${scale}`);
  const beside =
    /^x\d+$/i.test(basename(valDir)) &&
    (await paths.check(sibling, 'read').then(
      () => existsSync(sibling),
      () => false,
    ));
  const hint = beside ? `use ${sibling}` : `give x${scale} pairs, or no validation folder`;
  throw new ValidationError(field, `holds x${s} pairs (${basename(pairs[0]!.hr)}), and the student is x${scale}: ${hint}`);
}
