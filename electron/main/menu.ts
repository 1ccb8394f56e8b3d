import type { MenuAction } from '../channels';
import type { MenuItemTemplate } from './electron-api';

/**
 * The application menu. Items that act on the page send a MenuAction to the renderer, which runs
 * it exactly like the matching keyboard shortcut; accelerators match renderer/app/shortcuts.ts.
 */
export function menuTemplate(send: (action: MenuAction) => void, isMac: boolean): MenuItemTemplate[] {
  const views: [MenuAction & { view: string }, string][] = [
    [{ view: 'upscale' }, 'Upscale'],
    [{ view: 'compare' }, 'Compare'],
    [{ view: 'batch' }, 'Batch'],
    [{ view: 'wizard' }, 'Compression Wizard'],
    [{ view: 'settings' }, 'Settings'],
  ];
  return [
    ...(isMac ? [{ role: 'appMenu' }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Images…', accelerator: 'CmdOrCtrl+O', click: () => send({ command: 'open' }) },
        { label: 'Save Result…', accelerator: 'CmdOrCtrl+S', click: () => send({ command: 'save' }) },
        { type: 'separator' },
        { label: 'Run', accelerator: 'CmdOrCtrl+Enter', click: () => send({ command: 'run' }) },
        { label: 'Cancel Job', click: () => send({ command: 'cancel' }) },
        { type: 'separator' },
        { role: isMac ? 'close' : 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...views.map(([action, label], i) => ({ label, accelerator: `CmdOrCtrl+${i + 1}`, click: () => send(action) })),
        { type: 'separator' },
        { label: 'Zoom In', accelerator: 'CmdOrCtrl+=', click: () => send({ command: 'zoom-in' }) },
        { label: 'Zoom Out', accelerator: 'CmdOrCtrl+-', click: () => send({ command: 'zoom-out' }) },
        { label: 'Fit to Window', accelerator: 'CmdOrCtrl+0', click: () => send({ command: 'zoom-fit' }) },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
}
