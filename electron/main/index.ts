import { EngineHost } from '../../engine/api/host';
import type { MessagePort } from 'node:worker_threads';
import { JobManager } from '../../engine/api/jobs';
import { lazyQueuePort } from '../../engine/queue/lazy-port';
import { serveGpuProcesses } from '../../engine/runtime/gpu-relay';
import { MENU_CHANNEL, OPEN_CHANNEL } from '../channels';
import { createDialogs } from './dialogs';
import type { BrowserWindowLike, ElectronMain } from './electron-api';
import { forwardEvents, registerEngineIpc } from './ipc';
import { menuTemplate } from './menu';
import { OpenRequests, pathsFromArgv } from './open-requests';
import { handleProtocols, registerSchemes } from './protocols';
import { utilityJobProcess, utilitySpawner } from './utility-processes';
import { createMainWindow, denyPermissions, lockDown } from './window';

/** Wires the desktop app together: each part lives in its own file. */

export interface AppOptions {
  readonly rendererDir: string;
  readonly preloadPath: string;
  /** The bundled job worker (dist/electron/job-worker.mjs); default: the source worker. */
  readonly workerUrl?: URL;
  /** The bundled GPU process (dist/electron/gpu-child.mjs), run as a utility process; absent: GPU sessions in the job worker. */
  readonly gpuChildPath?: string;
  /** The bundled job process (dist/electron/job-process.mjs), a utility process for each training job on a GPU provider; absent: a worker thread. */
  readonly jobProcessPath?: string;
  readonly modelsDir?: string;
  /** Image paths given on the command line: the user chose them. */
  readonly openPaths?: readonly string[];
  readonly platform?: NodeJS.Platform;
}

export interface RunningApp {
  readonly host: EngineHost;
  readonly window: () => BrowserWindowLike;
}

/** Undefined when another instance is running: it was handed our files and this one quits. */
export async function startApp(electron: ElectronMain, opts: AppOptions): Promise<RunningApp | undefined> {
  const { app } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  const requests = new OpenRequests();
  requests.add(opts.openPaths ?? []);
  // The window exists once the app is ready; a second launch may come earlier.
  const shown: { window?: BrowserWindowLike } = {};
  app.on('second-instance', (_e, argv, cwd) => {
    requests.add(pathsFromArgv(argv, app.isPackaged), cwd);
    if (shown.window?.isMinimized()) shown.window.restore();
    shown.window?.focus();
  });
  // macOS: a file dropped on the Dock icon or opened from Finder; may come before 'ready'.
  app.on('open-file', (e, path) => {
    e.preventDefault();
    requests.add([path]);
  });
  registerSchemes(electron.protocol); // must precede 'ready'
  app.on('web-contents-created', (_e, contents) => lockDown(contents));
  await app.whenReady();
  denyPermissions(electron);
  const { utilityProcess } = electron;
  const gpuHost =
    utilityProcess && opts.gpuChildPath
      ? (port: MessagePort) => serveGpuProcesses(port, utilitySpawner(utilityProcess, opts.gpuChildPath!))
      : undefined;
  // A GPU driver's native abort then ends that job's process and fails the job, not the app.
  const jobProcess = utilityProcess && opts.jobProcessPath ? utilityJobProcess(utilityProcess, opts.jobProcessPath) : undefined;
  const jobOptions = { ...(gpuHost ? { gpuHost } : {}), ...(jobProcess ? { jobProcess } : {}) };
  const host = await EngineHost.create({
    configDir: app.getPath('userData'),
    transport: 'ipc',
    version: app.getVersion(),
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    ...(opts.workerUrl || gpuHost || jobProcess ? { jobs: new JobManager(opts.workerUrl, jobOptions) } : {}),
    queue: lazyQueuePort(),
  });
  handleProtocols(electron.protocol, host, opts.rendererDir);
  const window = createMainWindow(electron, opts.preloadPath);
  shown.window = window;
  await requests.connect(
    (p) => host.paths.allowFile(p, 'read'),
    (paths) => window.webContents.send(OPEN_CHANNEL, paths),
  );
  const dialogs = createDialogs(
    electron.dialog,
    () => window,
    host.paths,
    (p) => electron.shell.showItemInFolder(p),
    requests,
  );
  registerEngineIpc(electron.ipcMain, host, dialogs);
  forwardEvents(host, () => window.webContents);
  electron.Menu.setApplicationMenu(
    electron.Menu.buildFromTemplate(
      menuTemplate((a) => window.webContents.send(MENU_CHANNEL, a), (opts.platform ?? process.platform) === 'darwin'),
    ),
  );
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void host.close());
  return { host, window: () => window };
}
