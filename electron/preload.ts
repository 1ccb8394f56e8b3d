// Preload entry (bundled to CommonJS: sandboxed preloads cannot be ES modules). The only file
// besides electron/main.ts that touches the real `electron` module.
import { buildBridge } from './bridge';
import type { ElectronPreload } from './main/electron-api';

const { contextBridge, ipcRenderer, webUtils } = require('electron') as ElectronPreload;
contextBridge.exposeInMainWorld('minisr', buildBridge(ipcRenderer, webUtils));
