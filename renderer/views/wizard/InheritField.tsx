import { baseName } from '../../format';
import type { JobEntry } from '../../state/jobs';
import { PLANNED_STUDENT, type Forms } from '../../state/ui';

type DistillForm = Forms['distill'];

/**
 * The report that ranks the teacher's channels and blocks for inheritance: the one stage 2
 * planned the student from, else stage 1's run when it pruned this very teacher; none means the
 * engine ranks the teacher's own weights (as `minisr distill --init inherit` without `--report`).
 */
export function rankingReport(form: DistillForm, teacher: string, prune: JobEntry | undefined): string | undefined {
  if (form.student === PLANNED_STUDENT) return form.planned?.report;
  const r = prune?.request;
  return r?.kind === 'prune' && r.req.teacher === teacher ? prune?.prune?.reportPath : undefined;
}

/** Inheritance slices EDSR only (SwinIR's LayerNorms read every channel). */
export function inheritable(form: DistillForm, teacherFamily?: string): boolean {
  if (teacherFamily !== undefined && teacherFamily !== 'edsr') return false;
  return form.student === PLANNED_STUDENT ? form.planned?.config.family === 'edsr' : form.student === 'edsr-mini';
}

/** The start the user chose, else inheritance where it is enabled (it won over random init at equal steps; README). */
export function studentInit(form: DistillForm, acrossScales: boolean, teacherFamily?: string): 'random' | 'inherit' {
  return form.init ?? (inheritable(form, teacherFamily) && !acrossScales ? 'inherit' : 'random');
}

/**
 * Stage 3's "Initialise student from" choice, and what ranks the teacher when inheriting;
 * `acrossScales` (a x2 teacher for a x4 student) rules inheritance out.
 */
export function InheritField({
  form,
  report,
  acrossScales,
  teacherFamily,
  onInit,
}: {
  form: DistillForm;
  report: string | undefined;
  acrossScales?: { teacher: number; student: number };
  /** The teacher's architecture family where known (a listed model's, a checkpoint preset's). */
  teacherFamily?: string;
  onInit(init: DistillForm['init']): void;
}) {
  const edsr = inheritable(form, teacherFamily);
  const init = studentInit(form, !!acrossScales, teacherFamily);
  const note = !edsr
    ? teacherFamily !== undefined && teacherFamily !== 'edsr'
      ? 'Inheritance needs an EDSR teacher.'
      : 'Inheritance needs an EDSR student.'
    : acrossScales
      ? `Inheritance needs a teacher of the student's scale (this one is x${acrossScales.teacher}, the student x${acrossScales.student}).`
      : report
        ? `Channels and blocks ranked by the stage-1 report (${baseName(report.replace(/[\\/][^\\/]*$/, ''))}).`
        : "Channels and blocks ranked by the teacher's own weights (no stage-1 report for this teacher).";
  return (
    <label className="field">
      <span>Initialise student from</span>
      <select aria-label="Initialise student from" value={init} onChange={(e) => onInit(e.target.value as DistillForm['init'])}>
        <option value="random">random weights</option>
        <option value="inherit" disabled={!!acrossScales}>
          the teacher (inherit)
        </option>
      </select>
      {init === 'inherit' && (
        <span className="muted small" data-testid="inherit-ranking">
          {note}
        </span>
      )}
    </label>
  );
}
