import { createContext, useContext, type ReactNode } from 'react';
import type { EngineClient } from '../api/client';

const ClientContext = createContext<EngineClient | null>(null);

/** Gives the views the engine client (the page's real one, or a fake in component tests). */
export function ClientProvider({ client, children }: { client: EngineClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): EngineClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useClient outside <ClientProvider>');
  return c;
}
