import { useEffect, useEffectEvent } from 'react';

/**
 * Actions that keyboard shortcuts and menus trigger but a view implements (open, save, run,
 * cancel, zoom). The view on screen registers its handler; nothing happens when none is there.
 */
export type Command = 'open' | 'save' | 'run' | 'cancel' | 'zoom-in' | 'zoom-out' | 'zoom-fit';

const handlers = new Map<Command, () => void>();

export function runCommand(cmd: Command): boolean {
  const h = handlers.get(cmd);
  h?.();
  return !!h;
}

/** Registers `fn` for `cmd` while the calling component is mounted (latest closure wins). */
export function useCommand(cmd: Command, fn: (() => void) | undefined): void {
  const run = useEffectEvent(() => fn?.());
  const enabled = fn !== undefined;
  useEffect(() => {
    if (!enabled) return;
    const h = () => run();
    handlers.set(cmd, h);
    return () => {
      if (handlers.get(cmd) === h) handlers.delete(cmd);
    };
  }, [cmd, enabled]);
}
