import { useCallback, useEffect, useState } from 'react';
import type { History, RecentBatch } from '../api/client';
import { useClient } from '../app/client-context';
import { openPaths } from '../app/open-images';
import { baseName } from '../format';
import { reportError } from '../state/ui';
import { scaleLabel } from './scales';

/** The engine's history, fetched on mount and again whenever an upscale or a batch ends. */
function useHistory(): History | undefined {
  const client = useClient();
  const [history, setHistory] = useState<History>();
  const load = useCallback(() => client.getHistory().then(setHistory, reportError), [client]);
  useEffect(() => {
    void load();
    return client.onEvent((e) => {
      if (e.type === 'upscale-done' || e.type === 'batch-done' || (e.type === 'job' && e.job.kind === 'batch' && e.job.state !== 'running'))
        void load();
    });
  }, [client, load]);
  return history;
}

const when = (iso: string) => new Date(iso).toLocaleString();

/** Recently upscaled or saved images; clicking one opens it again. */
export function RecentImages() {
  const client = useClient();
  const images = useHistory()?.images ?? [];
  if (images.length === 0) return null;
  return (
    <section className="recent" aria-label="Recent images">
      <h2>Recent</h2>
      <ul className="path-list">
        {images.map((i) => (
          <li key={i.path}>
            <button
              type="button"
              className="ghost"
              disabled={i.missing}
              onClick={() => void openPaths(client, [i.path])}
              aria-label={`Open ${i.name}`}
              title={i.path}
            >
              <strong>{i.name}</strong>
              <span className="muted">
                {i.missing
                  ? 'missing'
                  : i.action === 'saved'
                    ? `saved ${when(i.at)}`
                    : `${scaleLabel(i.scale ?? 2)} with ${i.modelId} ${when(i.at)}`}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Empties the history (Settings). */
export function ClearHistory() {
  const client = useClient();
  const [cleared, setCleared] = useState(false);
  const clear = () =>
    client.clearHistory().then(
      () => setCleared(true),
      (e: unknown) => reportError(e),
    );
  return (
    <fieldset>
      <legend>History</legend>
      <p className="muted small">Recent images and batches are kept on this computer so you can open them again.</p>
      <div className="actions">
        <button type="button" onClick={() => void clear()} aria-label="Clear history">
          Clear history
        </button>
        {cleared && (
          <span role="status" className="muted">
            History cleared.
          </span>
        )}
      </div>
    </fieldset>
  );
}

function batchOutcome(b: RecentBatch): string {
  if (b.missing) return 'missing';
  if (b.state === 'finished') return `${b.done ?? 0} done · ${b.failed ?? 0} failed · ${b.skipped ?? 0} skipped`;
  if (b.state === 'started') return `${b.files} files, not finished`;
  return `${b.files} files, ${b.state}`;
}

/** Recent batches; clicking one fills the batch form with its folders, model and scale again. */
export function RecentBatches({ onPick }: { onPick: (b: RecentBatch) => void }) {
  const batches = useHistory()?.batches ?? [];
  if (batches.length === 0) return null;
  return (
    <section className="recent" aria-label="Recent batches">
      <h2>Recent</h2>
      <ul className="path-list">
        {batches.map((b) => {
          const name = b.inputs.map((p) => baseName(p.replace(/[\\/]+$/, ''))).join(', ');
          return (
            <li key={b.id}>
              <button
                type="button"
                className="ghost"
                disabled={b.missing}
                onClick={() => onPick(b)}
                aria-label={`Use batch ${name}`}
                title={`${b.inputs.join('\n')}\n→ ${b.outputDir}`}
              >
                <strong>{name}</strong>
                <span className="muted">
                  → {baseName(b.outputDir)} · {batchOutcome(b)} · {when(b.at)}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
