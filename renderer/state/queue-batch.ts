import { create } from 'zustand';
import type { BatchRequest, EngineClient, QueueBatchStatus } from '../api/client';

/**
 * The batch this page sent to the job queue: its state as the queue reports it, polled until
 * every file is settled. Its id is remembered in the page's storage, so a reload (or the app
 * started again) finds it and shows it again.
 */

export const QUEUE_BATCH_KEY = 'minisr.queueBatch';
/** How often an unsettled batch is asked about; slower while the queue does not answer. */
export const POLL_MS = 1000;
const RETRY_MS = 5000;

interface QueueBatchStore {
  readonly batch?: QueueBatchStatus;
  /** The remembered id of a batch not loaded yet (after a reload). */
  readonly pendingId?: string;
  /** Why the last send or status call failed (the queue unreachable, the batch cleaned). */
  readonly error?: string;
  readonly sending: boolean;
  send(client: EngineClient, req: BatchRequest): Promise<void>;
  /** Loads the remembered batch and follows it; a no-op when there is none or it is already followed. */
  resume(client: EngineClient): void;
  /** Stops following and forgets the batch (a local run replaces it in the view). */
  forget(): void;
  /** Back to what a freshly loaded page has: only the remembered id (tests; a reload does this by itself). */
  reset(): void;
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage disabled: the batch is shown until the page goes
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

export const useQueueBatch = create<QueueBatchStore>()((set, get) => {
  const follow = (client: EngineClient, id: string, gen: number) => {
    timer = undefined;
    client.queueBatchStatus(id).then(
      (batch) => {
        if (gen !== generation) return;
        set({ batch, pendingId: undefined, error: undefined });
        if (!batch.settled) timer = setTimeout(() => follow(client, id, gen), POLL_MS);
      },
      (e: unknown) => {
        if (gen !== generation) return;
        set({ error: `queue: ${(e as Error).message}` });
        timer = setTimeout(() => follow(client, id, gen), RETRY_MS);
      },
    );
  };
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
    generation++;
  };
  const start = (client: EngineClient, batch: QueueBatchStatus | undefined, id: string) => {
    clearTimeout(timer);
    const gen = ++generation;
    storage()?.setItem(QUEUE_BATCH_KEY, id);
    if (batch) set({ batch, pendingId: undefined, error: undefined });
    if (!batch?.settled) timer = setTimeout(() => follow(client, id, gen), batch ? POLL_MS : 0);
  };
  return {
    pendingId: storage()?.getItem(QUEUE_BATCH_KEY) ?? undefined,
    sending: false,
    async send(client, req) {
      if (get().sending) return;
      set({ sending: true, error: undefined });
      try {
        const batch = await client.sendBatchToQueue(req);
        start(client, batch, batch.id);
      } catch (e) {
        set({ error: (e as Error).message });
      } finally {
        set({ sending: false });
      }
    },
    resume(client) {
      const id = get().pendingId;
      if (!id || timer !== undefined) return;
      start(client, undefined, id);
    },
    forget() {
      stop();
      storage()?.removeItem(QUEUE_BATCH_KEY);
      set({ batch: undefined, pendingId: undefined, error: undefined });
    },
    reset() {
      stop();
      set({ batch: undefined, pendingId: storage()?.getItem(QUEUE_BATCH_KEY) ?? undefined, error: undefined, sending: false });
    },
  };
});
