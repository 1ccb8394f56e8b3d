import type { RpcError } from '../engine/api/rpc';
import type { EngineApi, EngineEvent, EngineMethod } from '../engine/api/types';
import { ENGINE_METHODS } from '../engine/api/types';

/**
 * The one channel map shared by main and preload. Engine calls go over `engine:<method>` with
 * `invoke`; answers come back as an envelope because Electron drops an Error's fields (code,
 * field) on the way through IPC. Events come on one channel. Dialogs are main-process calls that
 * also grow the path allow-list.
 */
export const engineChannel = (method: EngineMethod) => `engine:${method}` as const;

export const EVENT_CHANNEL = 'engine:event';

/** Main -> renderer: a menu item was chosen (the renderer runs it like the matching shortcut). */
export const MENU_CHANNEL = 'menu:action';

/** Main -> renderer: files the OS asked the app to open (second launch, macOS open-file). */
export const OPEN_CHANNEL = 'app:open';

export const MENU_VIEWS = ['upscale', 'compare', 'batch', 'wizard', 'settings'] as const;
export const MENU_COMMANDS = ['open', 'save', 'run', 'cancel', 'zoom-in', 'zoom-out', 'zoom-fit'] as const;
export type MenuAction = { readonly command: (typeof MENU_COMMANDS)[number] } | { readonly view: (typeof MENU_VIEWS)[number] };

export const DIALOG_CHANNELS = {
  openFiles: 'dialog:openFiles',
  openFolder: 'dialog:openFolder',
  openCheckpoint: 'dialog:openCheckpoint',
  openModel: 'dialog:openModel',
  saveFile: 'dialog:saveFile',
  revealInFolder: 'shell:revealInFolder',
  takeOpenRequests: 'app:takeOpenRequests',
  openDropped: 'app:openDropped',
} as const;

export type DialogMethod = keyof typeof DIALOG_CHANNELS;

export const ALL_INVOKE_CHANNELS: readonly string[] = [...ENGINE_METHODS.map(engineChannel), ...Object.values(DIALOG_CHANNELS)];

export type Envelope<T> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: RpcError };

type Promised<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<Envelope<R>> : never;

export interface DialogApi {
  /** Images the user picked (empty when cancelled); each is added to the allow-list. */
  openFiles(): Promise<string[]>;
  /** A folder the user picked (null when cancelled); added to the allow-list. */
  openFolder(): Promise<string | null>;
  /** A model checkpoint (.pth, .pt, .safetensors) the user picked (null when cancelled); added to the allow-list. */
  openCheckpoint(): Promise<string | null>;
  /** A model to import (.pth, .pt, .safetensors, .onnx or a model.json; null when cancelled); added to the allow-list. */
  openModel(): Promise<string | null>;
  /** A path to save to (null when cancelled); added to the allow-list as an output. */
  saveFile(defaultName: string): Promise<string | null>;
  revealInFolder(path: string): Promise<void>;
}

/** The main-process calls behind DIALOG_CHANNELS: the dialogs, and what the page asks once at start. */
export interface MainCallsApi extends DialogApi {
  /** Files the OS asked to open before the page was listening (command line, open-file); already allowed. */
  takeOpenRequests(): Promise<string[]>;
  /** Paths of files and folders dropped on the window; images and model files join the allow-list for reading, folders as read roots. */
  openDropped(paths: string[]): Promise<DroppedPaths>;
}

export interface DroppedPaths {
  readonly files: string[];
  readonly folders: string[];
  /** Model files to import (.pth, .pt, .safetensors, .onnx, model.json). */
  readonly models: string[];
}

/** What the preload exposes as `window.minisr`: named functions only. */
export type MinisrBridge = { readonly [K in EngineMethod]: Promised<EngineApi[K]> } & {
  readonly [K in DialogMethod]: Promised<MainCallsApi[K]>;
} & {
  /** Subscribes to engine events; returns the unsubscribe. */
  onEvent(cb: (event: EngineEvent) => void): () => void;
  /** Subscribes to menu actions; returns the unsubscribe. */
  onMenu(cb: (action: MenuAction) => void): () => void;
  /** Subscribes to files the OS asks to open; returns the unsubscribe. */
  onOpen(cb: (paths: string[]) => void): () => void;
  /** Where a dropped file lives on disk (Electron's webUtils); '' for bytes that are no file. */
  pathForFile(file: File): string;
};
