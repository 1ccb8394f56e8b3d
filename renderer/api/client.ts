import type { EngineApi, EngineEvent, ImageRef, ImageRegionQuery, OutputFormat } from '../../engine/api/types';
import type { DialogApi, DroppedPaths, MenuAction } from '../../electron/channels';
import { createIpcClient } from './ipc-client';
import { createWsClient } from './ws-client';

export { ApiError, regionSearch } from './shared';

export type * from '../../engine/api/types';
export type { DialogApi, MenuAction } from '../../electron/channels';

/**
 * The renderer's one way to reach the engine. Two transports implement it: Electron IPC through
 * the preload's `window.minisr`, and web mode's WebSocket. Views import only this file.
 */
export interface EngineClient extends EngineApi {
  readonly transport: 'ipc' | 'websocket';
  /** Subscribes to engine events; returns the unsubscribe. */
  onEvent(cb: (event: EngineEvent) => void): () => void;
  /** URL of an image region for <img src>; fetches only the region at the size asked. */
  imageUrl(q: ImageRegionQuery): string;
  /** URL that downloads the whole image as a file (web mode's "save"). */
  downloadUrl(imageId: string, format?: OutputFormat): string;
  /** Registers dropped/pasted/picked bytes as an image. */
  uploadImage(file: Blob, name: string): Promise<ImageRef>;
  /** Subscribes to native menu actions (Electron); web mode has no native menu and never calls back. */
  onMenu(cb: (action: MenuAction) => void): () => void;
  /** Subscribes to files the OS asks the desktop app to open (command line, second launch, open-file); web mode never calls back. */
  onOpen(cb: (paths: string[]) => void): () => void;
  /** Desktop only (null in web mode): opens dropped files and folders by their paths instead of uploading bytes. */
  readonly openDropped: ((files: readonly File[]) => Promise<DroppedPaths>) | null;
  /** Native dialogs (Electron only); null in web mode, where browse() and uploads stand in. */
  readonly dialogs: DialogApi | null;
}

let client: EngineClient | undefined;

/** The client for this page: IPC when the Electron preload is there, else WebSocket to web mode. */
export function getClient(): EngineClient {
  if (client) return client;
  const bridge = (globalThis as { minisr?: Parameters<typeof createIpcClient>[0] }).minisr;
  client = bridge ? createIpcClient(bridge) : createWsClient();
  return client;
}

/** Replaces the client (component tests pass a fake). */
export function setClient(next: EngineClient | undefined): void {
  client = next;
}
