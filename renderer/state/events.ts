import type { EngineClient, EngineEvent } from '../api/client';
import { useJobs } from './jobs';
import { useModels } from './models';

/** Feeds the engine's events into the stores; returns the unsubscribe. */
export function connectEvents(client: EngineClient): () => void {
  return client.onEvent((ev: EngineEvent) => {
    useJobs.getState().apply(ev);
    if (ev.type === 'distill-done') useModels.getState().add(ev.model);
  });
}
