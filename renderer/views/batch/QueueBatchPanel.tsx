import type { QueueBatchStatus, QueueFileStatus } from '../../api/client';
import { FailedFiles } from './FailedFiles';
import { FilesTable } from './FilesTable';

const STATE_LABEL: Record<QueueFileStatus['state'], string> = {
  waiting: 'Waiting',
  active: 'Active',
  done: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
};

/** A batch sent to the job queue: the summary, the failures with the engine's reasons, and each file's state. */
export function QueueBatchPanel(props: { batch?: QueueBatchStatus; pendingId?: string; error?: string; onDismiss: () => void }) {
  const { batch, error } = props;
  const failures = batch?.files.filter((f) => f.state === 'failed') ?? [];
  const state = !batch ? 'queued' : batch.settled ? (batch.summary.failed > 0 ? 'failed' : 'done') : 'running';
  return (
    <>
      <header className="queue-head">
        <h2>{batch?.title ?? `Queue batch ${props.pendingId ?? ''}`}</h2>
        <span className={`state-pill ${state}`} data-testid="queue-batch-state">
          {batch ? (batch.settled ? 'settled' : 'in the queue') : 'loading'}
        </span>
        <button type="button" onClick={props.onDismiss} aria-label="Dismiss queue batch">
          Dismiss
        </button>
      </header>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {batch && (
        <p className="summary" data-testid="batch-summary">
          {batch.summary.done} done · {batch.summary.failed} failed · {batch.summary.skipped} skipped · {batch.summary.pending} to go
          <span className="muted"> · batch {batch.id}</span>
        </p>
      )}
      <FailedFiles failures={failures} />
      {batch && <FilesTable files={batch.files} labels={STATE_LABEL} />}
    </>
  );
}
