import type { DialogMethod, Envelope, MinisrBridge } from '../../electron/channels';
import { ENGINE_METHODS, type EngineApi, type OutputFormat } from '../../engine/api/types';
import type { EngineClient } from './client';
import { ApiError, regionSearch } from './shared';

async function unwrap<T>(p: Promise<Envelope<T>>): Promise<T> {
  const env = await p;
  if (!env.ok) throw new ApiError(env.error);
  return env.result;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The EngineClient over Electron IPC: every call goes through the preload's named functions. */
export function createIpcClient(bridge: MinisrBridge): EngineClient {
  const api = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const m of ENGINE_METHODS) {
    const fn = bridge[m] as (...args: unknown[]) => Promise<Envelope<unknown>>;
    api[m] = (...args) => unwrap(fn(...args));
  }
  const dialog = <K extends DialogMethod>(k: K) =>
    ((...args: unknown[]) => unwrap((bridge[k] as (...a: unknown[]) => Promise<Envelope<unknown>>)(...args))) as never;
  return {
    ...(api as unknown as EngineApi),
    transport: 'ipc',
    onEvent: (cb) => bridge.onEvent(cb),
    onMenu: (cb) => bridge.onMenu(cb),
    onOpen(cb) {
      const off = bridge.onOpen(cb);
      // What the OS asked before this page listened (command line, a double-clicked file).
      void unwrap(bridge.takeOpenRequests()).then(
        (paths) => paths.length > 0 && cb(paths),
        () => {},
      );
      return off;
    },
    // Dropped files are opened where they are: no bytes cross IPC as base64.
    openDropped: (files) => unwrap(bridge.openDropped(files.map((f) => bridge.pathForFile(f)).filter((p) => p !== ''))),
    imageUrl: (q) => `minisr-image://image/${encodeURIComponent(q.imageId)}?${regionSearch(q)}`,
    downloadUrl: (id: string, format?: OutputFormat) =>
      `minisr-image://image/${encodeURIComponent(id)}?download=1${format ? `&format=${format}` : ''}`,
    uploadImage: async (file, name) => api.importImage!(name, base64(new Uint8Array(await file.arrayBuffer()))) as Promise<never>,
    dialogs: {
      openFiles: dialog('openFiles'),
      openFolder: dialog('openFolder'),
      openCheckpoint: dialog('openCheckpoint'),
      openModel: dialog('openModel'),
      saveFile: dialog('saveFile'),
      revealInFolder: dialog('revealInFolder'),
    },
  };
}
