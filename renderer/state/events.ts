import type { EngineClient, EngineEvent } from '../api/client';
import { useJobs } from './jobs';
import { useModels } from './models';
import { useUi } from './ui';

/** How long job events gather before the store takes them in one update. */
export const EVENT_BATCH_MS = 50;

/**
 * Feeds the engine's events into the stores, after the jobs the engine already has (a reload
 * keeps showing a running batch or distillation); returns the unsubscribe. Job events are applied
 * in batches, at most one store update (one render) per EVENT_BATCH_MS: a small model trains at
 * hundreds of steps a second, an event each, and rendering each kept the page from answering a
 * click. `batchMs` 0 applies each event as it comes (component tests that emit and look).
 */
export function connectEvents(client: EngineClient, batchMs = EVENT_BATCH_MS): () => void {
  let pending: EngineEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const evs = pending;
    pending = [];
    useJobs.getState().applyAll(evs);
  };
  const unsubscribe = client.onEvent((ev: EngineEvent) => {
    pending.push(ev);
    if (batchMs <= 0) flush();
    else timer ??= setTimeout(flush, batchMs);
    if (ev.type === 'distill-done') useModels.getState().add(ev.model);
    if (ev.type === 'notice') useUi.getState().notify('info', ev.message);
  });
  const off = () => {
    unsubscribe();
    if (timer !== undefined) clearTimeout(timer);
    if (pending.length) flush();
  };
  client.listJobs().then(
    (jobs) => {
      if (pending.length) flush(); // what the events already said is newer than this answer
      const known = useJobs.getState().jobs;
      for (const job of jobs) {
        if (known[job.id]) continue;
        useJobs.getState().apply({ type: 'job', job });
        // A prune run that finished before this page loaded: its report summary, for stage 2.
        if (job.kind === 'prune' && job.state === 'done' && job.output) {
          client.readPruneReport(job.output).then(
            (result) => useJobs.getState().apply({ type: 'prune-done', jobId: job.id, result }),
            () => {},
          );
        }
      }
    },
    () => {},
  );
  return off;
}
