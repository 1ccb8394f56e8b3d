import { EngineHost } from '../../engine/api/host';
import { JobManager } from '../../engine/api/jobs';
import { MENU_CHANNEL } from '../channels';
import { createDialogs } from './dialogs';
import type { BrowserWindowLike, ElectronMain } from './electron-api';
import { forwardEvents, registerEngineIpc } from './ipc';
import { menuTemplate } from './menu';
import { handleProtocols, registerSchemes } from './protocols';
import { createMainWindow, denyPermissions, lockDown } from './window';

/** Wires the desktop app together: each part lives in its own file. */

export interface AppOptions {
  readonly rendererDir: string;
  readonly preloadPath: string;
  /** The bundled job worker (dist/electron/job-worker.mjs); default: the source worker. */
  readonly workerUrl?: URL;
  readonly modelsDir?: string;
  /** Image paths given on the command line: the user chose them. */
  readonly openPaths?: readonly string[];
  readonly platform?: NodeJS.Platform;
}

export interface RunningApp {
  readonly host: EngineHost;
  readonly window: () => BrowserWindowLike;
}

export async function startApp(electron: ElectronMain, opts: AppOptions): Promise<RunningApp> {
  const { app } = electron;
  registerSchemes(electron.protocol); // must precede 'ready'
  app.on('web-contents-created', (_e, contents) => lockDown(contents));
  await app.whenReady();
  denyPermissions(electron);
  const host = await EngineHost.create({
    configDir: app.getPath('userData'),
    transport: 'ipc',
    version: app.getVersion(),
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    ...(opts.workerUrl ? { jobs: new JobManager(opts.workerUrl) } : {}),
  });
  for (const p of opts.openPaths ?? []) await host.paths.allowFile(p, 'read');
  handleProtocols(electron.protocol, host, opts.rendererDir);
  const win = createMainWindow(electron, opts.preloadPath);
  const dialogs = createDialogs(
    electron.dialog,
    () => win,
    host.paths,
    (p) => electron.shell.showItemInFolder(p),
  );
  registerEngineIpc(electron.ipcMain, host, dialogs);
  forwardEvents(host, () => win.webContents);
  electron.Menu.setApplicationMenu(
    electron.Menu.buildFromTemplate(
      menuTemplate((a) => win.webContents.send(MENU_CHANNEL, a), (opts.platform ?? process.platform) === 'darwin'),
    ),
  );
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void host.close());
  return { host, window: () => win };
}
