import { useMemo, type ReactNode } from 'react';
import { useClient } from '../../app/client-context';
import type { usePathPicker } from '../../components/PathBrowser';
import { Chart } from '../../components/Chart';
import { formatDuration, formatInt } from '../../format';
import { isActive, type JobEntry } from '../../state/jobs';
import { reportError } from '../../state/ui';

type PathPicker = ReturnType<typeof usePathPicker>;

/** Pieces the prune and distillation stages share: number fields, job controls and a training run's live panel. */

export function NumberField({
  label,
  value,
  min,
  step,
  onChange,
}: {
  label: string;
  value: number;
  min: number;
  step: number;
  onChange(v: number): void;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        aria-label={label}
        value={value}
        min={min}
        step={step}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v)) onChange(v);
        }}
      />
    </label>
  );
}

/** Step counter, progress bar and loss / validation charts of a training job (`what` names it: "Distillation", "Pruning"). */
export function TrainingPanel({
  entry,
  what,
  statsId,
  labels = { loss: 'Loss', val: 'Validation PSNR' },
  children,
}: {
  entry: JobEntry;
  what: string;
  statsId: string;
  labels?: { loss: string; val: string };
  children?: ReactNode;
}) {
  const t = entry.train;
  const loss = useMemo(() => ({ xs: t?.points.map((p) => p.step) ?? [], ys: t?.points.map((p) => p.loss) ?? [] }), [t?.points]);
  const val = useMemo(() => ({ xs: t?.val.map((p) => p.step) ?? [], ys: t?.val.map((p) => p.psnr) ?? [] }), [t?.val]);
  const step = t?.points[t.points.length - 1]?.step ?? 0;
  const phase = entry.progress?.detail;
  return (
    <div className="training">
      {entry.info.state === 'failed' && (
        <p role="alert" className="error">
          {what} failed: {entry.info.error ?? 'unknown error'}
        </p>
      )}
      {!t && phase && entry.info.state === 'running' && <p className="muted small">{phase}…</p>}
      {t && (
        <p className="train-stats" data-testid={statsId}>
          Step {formatInt(step)} / {formatInt(t.steps)} · {t.stepsPerSec.toFixed(2)} steps/s · ETA {formatDuration(t.etaSec)}
        </p>
      )}
      {t && (
        <div
          className="progress-track"
          role="progressbar"
          aria-label={`${what} progress`}
          aria-valuemin={0}
          aria-valuemax={t.steps}
          aria-valuenow={step}
        >
          <div className="progress-fill" style={{ width: `${(100 * step) / Math.max(1, t.steps)}%` }} />
        </div>
      )}
      <div className="charts">
        <Chart label={labels.loss} xs={loss.xs} ys={loss.ys} digits={4} color="#e8833a" />
        <Chart label={labels.val} xs={val.xs} ys={val.ys} unit="dB" digits={2} color="#4c9aff" />
      </div>
      {children}
    </div>
  );
}

/**
 * Start / Pause / Resume / Cancel and the state pill of a stage's job. `noun` names the job in
 * the buttons' accessible names ("Pause pruning"); the start button is labelled by the caller.
 */
export function JobControls({
  job,
  noun,
  start,
  canStart,
  startLabel,
  startAriaLabel,
  startClassName = 'primary',
  stateTestId,
}: {
  job: JobEntry | undefined;
  noun: string;
  start(): void;
  canStart: boolean;
  startLabel: string;
  startAriaLabel: string;
  startClassName?: string;
  stateTestId: string;
}) {
  const client = useClient();
  const active = isActive(job);
  const paused = job?.info.state === 'paused';
  const act = (f: (id: string) => Promise<unknown>) => job && f(job.info.id).catch(reportError);
  return (
    <div className="actions">
      {!active && (
        <button type="button" className={startClassName} disabled={!canStart} onClick={start} aria-label={startAriaLabel}>
          {startLabel}
        </button>
      )}
      {active && !paused && (
        <button type="button" onClick={() => void act((id) => client.pauseJob(id))} aria-label={`Pause ${noun}`}>
          Pause
        </button>
      )}
      {active && paused && (
        <button type="button" className="primary" onClick={() => void act((id) => client.resumeJob(id))} aria-label={`Resume ${noun}`}>
          Resume
        </button>
      )}
      {active && (
        <button type="button" onClick={() => void act((id) => client.cancelJob(id))} aria-label={`Cancel ${noun}`}>
          Cancel
        </button>
      )}
      {job && (
        <span className={`state-pill ${job.info.state}`} data-testid={stateTestId}>
          {job.info.state}
        </span>
      )}
    </div>
  );
}

/** A folder path: typed, or picked with the folder browser (`pick` from usePathPicker); a failed pick is reported. */
export function FolderField({
  label,
  ariaLabel,
  value,
  onChange,
  pick,
  chooseTitle,
  chooseAriaLabel,
}: {
  label: string;
  ariaLabel: string;
  value: string;
  onChange(v: string): void;
  pick: PathPicker['pick'];
  chooseTitle: string;
  chooseAriaLabel: string;
}) {
  const choose = async () => {
    try {
      const [p] = await pick('folder', chooseTitle);
      if (p) onChange(p);
    } catch (e) {
      reportError(e);
    }
  };
  return (
    <div className="field span2">
      <span>{label}</span>
      <div className="row">
        <input type="text" aria-label={ariaLabel} value={value} spellCheck={false} onChange={(e) => onChange(e.target.value)} />
        <button type="button" onClick={() => void choose()} aria-label={chooseAriaLabel}>
          Choose…
        </button>
      </div>
    </div>
  );
}
