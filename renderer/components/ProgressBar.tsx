import type { Progress } from '../state/jobs';
import { formatDuration } from '../format';

/** A job's progress: bar, done/total of `unit`, throughput and ETA. */
export function ProgressBar({ label, progress, unit, testId }: { label: string; progress?: Progress; unit: string; testId?: string }) {
  const total = progress?.total ?? 0;
  const done = progress?.done ?? 0;
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  return (
    <div className="progress" data-testid={testId}>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total || 100}
        aria-valuenow={total ? done : undefined}
        aria-valuetext={total ? `${done} of ${total} ${unit}` : 'starting'}
      >
        <div className={`progress-fill${total ? '' : ' indeterminate'}`} style={{ width: total ? `${pct}%` : undefined }} />
      </div>
      <div className="progress-text">
        <span>{total ? `${done} / ${total} ${unit}` : 'Starting…'}</span>
        {progress?.megapixelsPerSec !== undefined && <span>{progress.megapixelsPerSec.toFixed(2)} MP/s</span>}
        <span>ETA {formatDuration(progress?.etaSec)}</span>
        {progress?.detail && <span className="muted">{progress.detail}</span>}
      </div>
    </div>
  );
}
