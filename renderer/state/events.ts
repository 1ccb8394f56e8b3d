import type { EngineClient, EngineEvent } from '../api/client';
import { useJobs } from './jobs';
import { useModels } from './models';

/**
 * Feeds the engine's events into the stores, after the jobs the engine already has (a reload
 * keeps showing a running batch or distillation); returns the unsubscribe.
 */
export function connectEvents(client: EngineClient): () => void {
  const off = client.onEvent((ev: EngineEvent) => {
    useJobs.getState().apply(ev);
    if (ev.type === 'distill-done') useModels.getState().add(ev.model);
  });
  client.listJobs().then((jobs) => {
    const known = useJobs.getState().jobs;
    for (const job of jobs) if (!known[job.id]) useJobs.getState().apply({ type: 'job', job });
  }, () => {});
  return off;
}
