import type { BrowserWindowLike, BrowserWindowOptions, ElectronMain, WebContentsLike } from './electron-api';

/** The renderer is served from this origin (see app-protocol.ts); nothing else may load. */
export const APP_ORIGIN = 'minisr-app://app';
export const APP_URL = `${APP_ORIGIN}/index.html`;

export function windowOptions(preload: string): BrowserWindowOptions {
  return {
    width: 1280,
    height: 840,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'MiniSR',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/** No navigation away from the app, no new windows, no webviews: remote content never loads. */
export function lockDown(contents: WebContentsLike): void {
  const stay = (e: { preventDefault(): void }, url: string) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
  };
  contents.on('will-navigate', stay);
  contents.on('will-redirect', stay);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Denies every permission request (camera, notifications, geolocation, ...): the app needs none. */
export function denyPermissions(electron: Pick<ElectronMain, 'session'>): void {
  electron.session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  electron.session.defaultSession.setPermissionCheckHandler(() => false);
}

export function createMainWindow(electron: Pick<ElectronMain, 'BrowserWindow'>, preload: string): BrowserWindowLike {
  const win = new electron.BrowserWindow(windowOptions(preload));
  lockDown(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}
