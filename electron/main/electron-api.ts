/**
 * The slice of Electron's main-process API that MiniSR uses, as an interface: the main-process
 * logic takes it as a parameter, so tests drive it with fakes and only `electron/main.ts`
 * touches the real module. Shapes follow Electron's own typings (a subset).
 */

export interface WebPreferences {
  readonly preload: string;
  readonly contextIsolation: boolean;
  readonly sandbox: boolean;
  readonly nodeIntegration: boolean;
  readonly nodeIntegrationInWorker: boolean;
  readonly nodeIntegrationInSubFrames: boolean;
  readonly webSecurity: boolean;
  readonly allowRunningInsecureContent: boolean;
  readonly webviewTag: boolean;
  readonly experimentalFeatures: boolean;
  readonly navigateOnDragDrop: boolean;
  readonly spellcheck: boolean;
}

export interface BrowserWindowOptions {
  readonly width: number;
  readonly height: number;
  readonly minWidth: number;
  readonly minHeight: number;
  readonly show: boolean;
  readonly title: string;
  readonly backgroundColor: string;
  readonly webPreferences: WebPreferences;
}

export interface ElectronEvent {
  preventDefault(): void;
}

export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (e: ElectronEvent, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (e: ElectronEvent) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): void;
  on(event: 'closed', listener: () => void): void;
  show(): void;
  isMinimized(): boolean;
  restore(): void;
  focus(): void;
}

export interface IpcMainInvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface DialogLike {
  showOpenDialog(
    window: BrowserWindowLike,
    options: { properties: string[]; filters?: { name: string; extensions: string[] }[]; title?: string },
  ): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(
    window: BrowserWindowLike,
    options: { defaultPath?: string; filters?: { name: string; extensions: string[] }[] },
  ): Promise<{ canceled: boolean; filePath?: string }>;
}

export interface MenuItemTemplate {
  readonly label?: string;
  readonly role?: string;
  readonly type?: 'separator' | 'submenu' | 'normal';
  readonly accelerator?: string;
  readonly click?: () => void;
  readonly submenu?: readonly MenuItemTemplate[];
}

export interface MenuLike {
  buildFromTemplate(template: readonly MenuItemTemplate[]): unknown;
  setApplicationMenu(menu: unknown): void;
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: Record<string, boolean> }[]): void;
  handle(scheme: string, handler: (request: Request) => Promise<Response> | Response): void;
}

export interface SessionLike {
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

export interface AppLike {
  whenReady(): Promise<void>;
  on(event: 'window-all-closed' | 'before-quit', listener: () => void): void;
  on(event: 'web-contents-created', listener: (e: ElectronEvent, contents: WebContentsLike) => void): void;
  on(event: 'second-instance', listener: (e: ElectronEvent, argv: string[], workingDirectory: string) => void): void;
  on(event: 'open-file', listener: (e: ElectronEvent, path: string) => void): void;
  /** False when another instance holds the lock (it gets our arguments as `second-instance`). */
  requestSingleInstanceLock(): boolean;
  quit(): void;
  getPath(name: 'userData' | 'temp'): string;
  getVersion(): string;
  readonly isPackaged: boolean;
}

/** Electron's utility process (a Node child that needs no RunAsNode), as the GPU process uses it. */
export interface UtilityProcessLike {
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  kill(): boolean;
}

export interface UtilityProcessModuleLike {
  fork(modulePath: string, args: string[], options: { serviceName: string; stdio: ['ignore', 'ignore', 'pipe'] }): UtilityProcessLike;
}

export interface ElectronMain {
  readonly app: AppLike;
  readonly BrowserWindow: new (options: BrowserWindowOptions) => BrowserWindowLike;
  readonly ipcMain: IpcMainLike;
  readonly dialog: DialogLike;
  readonly Menu: MenuLike;
  readonly shell: { showItemInFolder(path: string): void };
  readonly protocol: ProtocolLike;
  readonly session: { readonly defaultSession: SessionLike };
  /** Absent in tests' fakes: GPU sessions then stay in the job worker. */
  readonly utilityProcess?: UtilityProcessModuleLike;
}

/** What the preload uses. */
export interface ElectronPreload {
  readonly contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  readonly ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
    removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  };
  readonly webUtils: { getPathForFile(file: File): string };
}
