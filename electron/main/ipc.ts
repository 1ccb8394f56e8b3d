import { dispatch } from '../../engine/api/dispatch';
import type { EngineHost } from '../../engine/api/host';
import { toRpcError } from '../../engine/api/schema';
import { ENGINE_METHODS } from '../../engine/api/types';
import { DIALOG_CHANNELS, engineChannel, EVENT_CHANNEL, type Envelope, type MainCallsApi } from '../channels';
import type { IpcMainInvokeEventLike, IpcMainLike, WebContentsLike } from './electron-api';
import { APP_ORIGIN } from './window';

/**
 * IPC handlers: one per channel of the channel map. Each checks that the call comes from our own
 * page, validates the arguments with the same schema as web mode (dispatch), and answers with
 * an envelope so the renderer gets the error's code and field.
 */

export class ForeignSenderError extends Error {
  readonly code = 'forbidden';
}

function checkSender(event: IpcMainInvokeEventLike): void {
  const url = event.senderFrame?.url ?? '';
  if (!url.startsWith(`${APP_ORIGIN}/`))
    throw new ForeignSenderError(`IPC from ${url || 'an unknown frame'} refused: only the MiniSR page may call the engine`);
}

async function envelope<T>(event: IpcMainInvokeEventLike, run: () => Promise<T>): Promise<Envelope<T>> {
  try {
    checkSender(event);
    return { ok: true, result: await run() };
  } catch (e) {
    return { ok: false, error: toRpcError(e) };
  }
}

export function registerEngineIpc(ipcMain: IpcMainLike, host: EngineHost, dialogs: MainCallsApi): () => void {
  const channels: string[] = [];
  for (const method of ENGINE_METHODS) {
    const channel = engineChannel(method);
    ipcMain.handle(channel, (event, ...args) => envelope(event, () => dispatch(host, method, args)));
    channels.push(channel);
  }
  for (const [name, channel] of Object.entries(DIALOG_CHANNELS) as [keyof MainCallsApi, string][]) {
    ipcMain.handle(channel, (event, ...args) => envelope(event, () => (dialogs[name] as (...a: unknown[]) => Promise<unknown>)(...args)));
    channels.push(channel);
  }
  return () => channels.forEach((c) => ipcMain.removeHandler(c));
}

/** Streams engine events to the window; returns the unsubscribe. */
export function forwardEvents(host: EngineHost, contents: () => WebContentsLike | undefined): () => void {
  return host.onEvent((event) => {
    const wc = contents();
    if (wc && !wc.isDestroyed()) wc.send(EVENT_CHANNEL, event);
  });
}
