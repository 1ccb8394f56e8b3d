import type { EngineClient, EngineEvent } from '../api/client';
import { useJobs } from './jobs';
import { useModels } from './models';
import { useUi } from './ui';

/**
 * Feeds the engine's events into the stores, after the jobs the engine already has (a reload
 * keeps showing a running batch or distillation); returns the unsubscribe.
 */
export function connectEvents(client: EngineClient): () => void {
  const off = client.onEvent((ev: EngineEvent) => {
    useJobs.getState().apply(ev);
    if (ev.type === 'distill-done') useModels.getState().add(ev.model);
    if (ev.type === 'notice') useUi.getState().notify('info', ev.message);
  });
  client.listJobs().then(
    (jobs) => {
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
