import { ENGINE_METHODS, type EngineEvent } from '../engine/api/types';
import { DIALOG_CHANNELS, engineChannel, EVENT_CHANNEL, MENU_CHANNEL, OPEN_CHANNEL, type MenuAction, type MinisrBridge } from './channels';
import type { ElectronPreload } from './main/electron-api';

/**
 * The object the preload exposes as `window.minisr`: one named function per channel (never
 * ipcRenderer itself, never a generic `invoke(channel)`), and subscriptions that return their
 * unsubscribe. Arguments are passed through as they are; the main process validates them.
 */
export function buildBridge(ipc: ElectronPreload['ipcRenderer'], webUtils: ElectronPreload['webUtils']): MinisrBridge {
  const bridge: Record<string, unknown> = {};
  for (const m of ENGINE_METHODS) bridge[m] = (...args: unknown[]) => ipc.invoke(engineChannel(m), ...args);
  for (const [name, channel] of Object.entries(DIALOG_CHANNELS)) bridge[name] = (...args: unknown[]) => ipc.invoke(channel, ...args);
  const subscribe =
    <T>(channel: string) =>
    (cb: (value: T) => void) => {
      const listener = (_event: unknown, value: unknown) => cb(value as T);
      ipc.on(channel, listener);
      return () => ipc.removeListener(channel, listener);
    };
  bridge.onEvent = subscribe<EngineEvent>(EVENT_CHANNEL);
  bridge.onMenu = subscribe<MenuAction>(MENU_CHANNEL);
  bridge.onOpen = subscribe<string[]>(OPEN_CHANNEL);
  bridge.pathForFile = (file: File) => webUtils.getPathForFile(file);
  return Object.freeze(bridge) as unknown as MinisrBridge;
}
