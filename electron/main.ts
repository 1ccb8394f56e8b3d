// Main-process entry, bundled by scripts/build-electron.mjs to dist/electron/main.mjs. The only
// main-process file that loads the real `electron` module; everything else takes it injected.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startApp } from './main/index';
import { pathsFromArgv } from './main/open-requests';
import type { ElectronMain } from './main/electron-api';

const electron = createRequire(import.meta.url)('electron') as ElectronMain;
const here = import.meta.dirname;
const unpacked = here.replace(/app\.asar(?=[\\/])/, 'app.asar.unpacked');
// Packaged: models sit in resources/models (extraResources); from a checkout: <repo>/models.
const modelsDir = electron.app.isPackaged
  ? join((process as NodeJS.Process & { resourcesPath: string }).resourcesPath, 'models')
  : join(here, '../../models');

await startApp(electron, {
  rendererDir: join(here, '../renderer'),
  preloadPath: join(here, 'preload.cjs'),
  // Worker threads cannot start from inside the asar archive: the worker is unpacked beside it.
  workerUrl: pathToFileURL(join(unpacked, 'job-worker.mjs')),
  // The GPU process (a utility process) likewise, with the native modules it loads.
  gpuChildPath: join(unpacked, 'gpu-child.mjs'),
  // And the process a training job on a GPU provider runs in.
  jobProcessPath: join(unpacked, 'job-process.mjs'),
  modelsDir,
  openPaths: pathsFromArgv(process.argv, electron.app.isPackaged),
});
