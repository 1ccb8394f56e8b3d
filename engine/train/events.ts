/** A tiny typed event hub: `on` returns its own unsubscribe, listeners run synchronously in order. */
export class Events<M extends object> {
  private readonly listeners = new Map<keyof M, Set<(payload: never) => void>>();

  on<K extends keyof M>(event: K, cb: (payload: M[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb as (payload: never) => void);
    return () => set.delete(cb as (payload: never) => void);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const cb of this.listeners.get(event) ?? []) (cb as (p: M[K]) => void)(payload);
  }
}
