import type { DistillRequest, ModelInfo } from '../../api/client';
import { passesOf } from '../../components/scales';
import { IMPORT_TEACHER } from '../../state/ui';

/**
 * Stage 3's "Scale": the factor the student is distilled at, among those the teacher reaches in
 * one pass or in several (the engine runs a x2 teacher twice for a x4 student; x3 needs a x3
 * teacher). The engine checks the same at the call.
 */

export type StudentScale = NonNullable<DistillRequest['scale']>;

const STUDENT_SCALES: readonly StudentScale[] = [2, 3, 4];

/**
 * The teacher's scale: a listed model's; a checkpoint's is its architecture preset's, and every
 * preset the wizard offers is x2; a foreign ONNX file's is unknown here (the engine measures it).
 */
export function teacherScale(models: readonly ModelInfo[], teacher: string, importing: boolean): number | undefined {
  if (importing) return /\.(pth|pt|safetensors)$/i.test(teacher) ? 2 : undefined;
  const m = models.find((m) => m.id === teacher);
  // A listed x1 model is known too (it reaches no student scale); 0 is an unknown scale.
  return m && m.scale >= 1 ? m.scale : undefined;
}

/** The scales a teacher of `teacher` scale reaches (all, where it is unknown). */
export function studentScales(teacher: number | undefined): StudentScale[] {
  return teacher === undefined ? [...STUDENT_SCALES] : STUDENT_SCALES.filter((s) => passesOf(s, teacher) !== undefined);
}

/** What the select shows: the scale the form holds where the teacher reaches it, else the first one it does. */
export function chosenScale(held: number | undefined, teacher: number | undefined): StudentScale {
  const scales = studentScales(teacher);
  return scales.find((s) => s === held) ?? scales[0] ?? 2;
}

/**
 * Stage 3's teacher as the distil form holds it (the chosen one, else the first large model, else
 * a file), its scale and the student's; stage 2 plans the student at that same scale.
 */
export function distilScale(models: readonly ModelInfo[], form: { teacher?: string; teacherPath: string; scale?: number }) {
  const teachers = models.filter((m) => !m.compact);
  const teacherId = form.teacher ?? (teachers[0] ?? models[0])?.id ?? IMPORT_TEACHER;
  const importing = teacherId === IMPORT_TEACHER;
  const teacher = teacherScale(models, importing ? form.teacherPath.trim() : teacherId, importing);
  return { teacherId, importing, teacher, scale: chosenScale(form.scale, teacher), reachable: studentScales(teacher).length > 0 };
}

/** The validation folder for another scale: `.../Set5/x2` becomes `.../Set5/x4`; other paths stay. */
export function valDirFor(valDir: string, from: number, to: number): string {
  return valDir.replace(new RegExp(`([\\\\/])x${from}([\\\\/]?)$`), `$1x${to}$2`);
}

function hint(scale: number, teacher: number | undefined): string {
  if (teacher === undefined) return `The student upscales x${scale}; the engine checks that this teacher reaches it.`;
  // Scales up to x4 from a teacher of x2 or more: one pass, or two of a x2 teacher.
  return passesOf(scale, teacher) === 1
    ? `The student upscales x${scale} in one pass, as the teacher does.`
    : `The student upscales x${scale} in one pass; it learns from the x${teacher} teacher run twice.`;
}

/** Inheritance slices the teacher's upsampler: the teacher must be of the student's own scale. */
export const inheritsAt = (scale: number, teacher: number | undefined) => teacher === undefined || teacher === scale;

export function ScaleField({
  scale,
  teacher,
  onScale,
}: {
  scale: StudentScale;
  teacher: number | undefined;
  onScale(scale: StudentScale): void;
}) {
  const label = (s: number) => (teacher !== undefined && passesOf(s, teacher) === 2 ? `x${s} (teacher run twice)` : `x${s}`);
  if (studentScales(teacher).length === 0)
    return (
      <p className="field note" data-testid="scale-none">
        A x{teacher} teacher makes no x2, x3 or x4 student: pick a teacher of x2, x3 or x4.
      </p>
    );
  return (
    <label className="field">
      <span>Scale</span>
      <select aria-label="Student scale" value={scale} onChange={(e) => onScale(Number(e.target.value) as StudentScale)}>
        {studentScales(teacher).map((s) => (
          <option key={s} value={s}>
            {label(s)}
          </option>
        ))}
      </select>
      <span className="muted small" data-testid="scale-hint">
        {hint(scale, teacher)}
      </span>
    </label>
  );
}
