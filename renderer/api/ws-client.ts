import type { RpcRequest, RpcError, ServerMessage } from '../../engine/api/rpc';
import {
  ENGINE_METHODS,
  type EngineApi,
  type EngineEvent,
  type EngineMethod,
  type ImageRef,
  type OutputFormat,
} from '../../engine/api/types';
import type { EngineClient } from './client';
import { ApiError, regionSearch } from './shared';

const TOKEN_KEY = 'minisr-token';

/**
 * The web-mode token: `?token=` in the page URL (printed by `minisr serve`), else the meta tag the
 * server injects. The token then leaves the address bar (history, bookmarks, screen shares); a
 * reload is authorised by the session cookie the first load set.
 */
export function findToken(loc: Location = location, doc: Document = document, hist: History = history): string {
  const params = new URLSearchParams(loc.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const search = params.toString();
    hist.replaceState(hist.state, '', `${loc.pathname}${search ? `?${search}` : ''}${loc.hash}`);
    return fromUrl;
  }
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="minisr-token"]')?.content;
  const token = meta || sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Error('no access token: open the URL that `minisr serve` printed (it ends with ?token=...)');
  return token;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** The EngineClient over web mode's WebSocket (JSON-RPC-like frames, see engine/api/rpc.ts). */
/** `waitMs`: how long a call waits for an unreachable server before it fails (default 15 s). */
export function createWsClient(options: { token?: string; origin?: string; waitMs?: number } = {}): EngineClient {
  const opts = { waitMs: 15_000, ...options };
  const token = opts.token ?? findToken();
  const origin = opts.origin ?? location.origin;
  const wsUrl = `${origin.replace(/^http/, 'ws')}/api/ws?token=${encodeURIComponent(token)}`;
  const listeners = new Set<(e: EngineEvent) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket | undefined;
  let opened: Promise<WebSocket> | undefined;
  let retryMs = 250;

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      socket = ws;
      ws.onopen = () => {
        retryMs = 250;
        resolve(ws);
      };
      ws.onerror = () => {}; // a close follows, which reports it
      ws.onmessage = (m) => onMessage(JSON.parse(String(m.data)) as ServerMessage);
      ws.onclose = () => {
        opened = undefined;
        socket = undefined;
        reject(new Error('cannot reach the MiniSR server (is `minisr serve` still running?)'));
        for (const p of pending.values()) p.reject(new Error('connection to the MiniSR server closed'));
        pending.clear();
        // Keep events flowing after a server restart or a dropped connection.
        if (listeners.size > 0) setTimeout(() => void connect().catch(() => {}), (retryMs = Math.min(retryMs * 2, 5000)));
      };
    });
    return opened;
  };

  const onMessage = (msg: ServerMessage) => {
    if ('event' in msg) {
      for (const cb of listeners) cb(msg.event);
      return;
    }
    const p = msg.id === null ? undefined : pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id!);
    if ('error' in msg) p.reject(new ApiError(msg.error));
    else p.resolve(msg.result);
  };

  // A call made while the server is not reachable yet (a page loaded as the server starts, a
  // handshake lost on a busy machine) waits for it a while instead of failing the page's first
  // requests, which nothing would repeat.
  const connected = async (): Promise<WebSocket> => {
    const deadline = Date.now() + opts.waitMs;
    for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
      try {
        return await connect();
      } catch (e) {
        if (Date.now() + wait > deadline) throw e;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };

  const call = async (method: EngineMethod, params: unknown[]): Promise<unknown> => {
    const ws = await connected();
    const id = nextId++;
    const req: RpcRequest = { id, method, params };
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify(req));
    });
  };

  const api = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const m of ENGINE_METHODS) api[m] = (...args) => call(m, args);
  const withToken = (path: string, search: URLSearchParams) => {
    search.set('token', token);
    return `${origin}${path}?${search}`;
  };

  return {
    ...(api as unknown as EngineApi),
    transport: 'websocket',
    onEvent(cb) {
      listeners.add(cb);
      void connect().catch(() => {});
      return () => {
        listeners.delete(cb);
      };
    },
    onMenu: () => () => {},
    onOpen: () => () => {},
    openDropped: null,
    imageUrl: (q) => withToken(`/api/images/${encodeURIComponent(q.imageId)}`, regionSearch(q)),
    downloadUrl: (id: string, format?: OutputFormat) =>
      withToken(`/api/images/${encodeURIComponent(id)}/download`, new URLSearchParams(format ? { format } : {})),
    async uploadImage(file, name): Promise<ImageRef> {
      const res = await fetch(withToken('/api/upload', new URLSearchParams({ name })), { method: 'POST', body: file });
      const body = (await res.json()) as ImageRef | { error: RpcError };
      if ('error' in body) throw new ApiError(body.error);
      return body;
    },
    dialogs: null,
    /** For tests and teardown. */
    ...({ close: () => socket?.close() } as object),
  };
}
