import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBridge } from '../../electron/bridge';
import { ALL_INVOKE_CHANNELS, DIALOG_CHANNELS, engineChannel, EVENT_CHANNEL, MENU_CHANNEL, type Envelope } from '../../electron/channels';
import { createDialogs } from '../../electron/main/dialogs';
import type { ElectronMain, IpcMainInvokeEventLike, MenuItemTemplate } from '../../electron/main/electron-api';
import { startApp, type RunningApp } from '../../electron/main/index';
import { registerEngineIpc } from '../../electron/main/ipc';
import { menuTemplate } from '../../electron/main/menu';
import { ELECTRON_CSP } from '../../electron/main/protocols';
import { APP_URL, createMainWindow, windowOptions } from '../../electron/main/window';
import { EngineHost } from '../../engine/api/host';
import { FakeWindow, type Listener } from '../helpers/fake-electron';
import type { ImageRef } from '../../engine/api/types';

const SAMPLE = join(import.meta.dirname, '../../resources/samples/camera.png');
const APP_FRAME: IpcMainInvokeEventLike = { senderFrame: { url: APP_URL } };

function prevented(listener: Listener | undefined, url?: string): boolean {
  let p = false;
  (listener as (e: { preventDefault(): void }, url?: string) => void)({ preventDefault: () => (p = true) }, url);
  return p;
}

function fakeIpc() {
  const handlers = new Map<string, (e: IpcMainInvokeEventLike, ...a: unknown[]) => Promise<unknown>>();
  return {
    handlers,
    ipcMain: {
      handle: (c: string, h: (e: IpcMainInvokeEventLike, ...a: unknown[]) => Promise<unknown>) => void handlers.set(c, h),
      removeHandler: (c: string) => void handlers.delete(c),
    },
    invoke: <T>(channel: string, ...args: unknown[]) => handlers.get(channel)!(APP_FRAME, ...args) as Promise<Envelope<T>>,
  };
}

describe('Electron main process (with faked Electron)', () => {
  let dir: string;
  let host: EngineHost;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-electron-'));
    await mkdir(join(dir, 'chosen'));
    await copyFile(SAMPLE, join(dir, 'chosen/camera.png'));
    await copyFile(SAMPLE, join(dir, 'not-chosen.png'));
    host = await EngineHost.create({ configDir: join(dir, 'config'), transport: 'ipc', version: 't', modelsDir: join(dir, 'models') });
  });
  afterAll(async () => host?.close());

  it('creates the window with isolation, sandbox and no Node in the page', () => {
    const o = windowOptions('/app/preload.cjs').webPreferences;
    expect(o).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    createMainWindow({ BrowserWindow: FakeWindow }, '/app/preload.cjs');
    const w = FakeWindow.last;
    expect(w.options.webPreferences.preload).toBe('/app/preload.cjs');
    expect(w.loaded).toBe(APP_URL);
  });

  it('blocks navigation away from the app, redirects, webviews and new windows', () => {
    createMainWindow({ BrowserWindow: FakeWindow }, '/p.cjs');
    const w = FakeWindow.last;
    expect(prevented(w.listeners.get('will-navigate'), 'https://example.com/')).toBe(true);
    expect(prevented(w.listeners.get('will-navigate'), 'file:///etc/passwd')).toBe(true);
    expect(prevented(w.listeners.get('will-navigate'), 'minisr-app://app/index.html')).toBe(false);
    expect(prevented(w.listeners.get('will-redirect'), 'http://127.0.0.1:1/')).toBe(true);
    expect(prevented(w.listeners.get('will-attach-webview'))).toBe(true);
    expect(w.openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('IPC handlers cover the channel map and refuse foreign senders, bad shapes and paths the user did not choose', async () => {
    const ipc = fakeIpc();
    const dialogs = createDialogs(
      { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
      () => FakeWindow.last,
      host.paths,
      () => {},
    );
    const off = registerEngineIpc(ipc.ipcMain, host, dialogs);
    expect([...ipc.handlers.keys()].sort()).toEqual([...ALL_INVOKE_CHANNELS].sort());
    const foreign = await ipc.handlers.get(engineChannel('listJobs'))!({ senderFrame: { url: 'https://evil.example/' } });
    expect(foreign).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('only the MiniSR page') } });
    expect(await ipc.invoke(engineChannel('startUpscale'), { imageId: 'x', modelId: 'm', scale: 5 })).toMatchObject({
      ok: false,
      error: { code: 'bad-request', field: 'startUpscale.params.0.scale' },
    });
    expect(await ipc.invoke(engineChannel('openImage'), join(dir, 'not-chosen.png'))).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await ipc.invoke(engineChannel('listJobs'))).toEqual({ ok: true, result: [] });
    expect(await ipc.invoke(engineChannel('planCompression'), { report: join(dir, 'importance.json'), feats: 0 })).toMatchObject({
      ok: false,
      error: { code: 'bad-request', field: 'planCompression.params.0.feats' },
    });
    expect(
      await ipc.invoke(engineChannel('startPrune'), {
        teacher: join(dir, 't.pth'),
        teacherPreset: 'edsr-mini',
        dataDir: dir,
        steps: 1,
        lambda: 1e-3,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await ipc.invoke(DIALOG_CHANNELS.saveFile, '../x.png')).toMatchObject({ ok: false, error: { field: 'saveFile.params.0' } });
    off();
    expect(ipc.handlers.size).toBe(0);
  });

  it('dialog results join the allow-list: an opened file becomes readable, a chosen folder writable', async () => {
    const ipc = fakeIpc();
    let next: { canceled: boolean; filePaths: string[] } = { canceled: false, filePaths: [join(dir, 'chosen/camera.png')] };
    const revealed: string[] = [];
    const filters: string[][] = [];
    const dialogs = createDialogs(
      {
        showOpenDialog: async (_w, o) => (filters.push(o.filters?.flatMap((f) => f.extensions) ?? []), next),
        showSaveDialog: async () => ({ canceled: false, filePath: join(dir, 'out.png') }),
      },
      () => FakeWindow.last,
      host.paths,
      (p) => revealed.push(p),
    );
    registerEngineIpc(ipc.ipcMain, host, dialogs);
    expect(await ipc.invoke(DIALOG_CHANNELS.openFiles)).toEqual({ ok: true, result: [join(dir, 'chosen/camera.png')] });
    const opened = await ipc.invoke<ImageRef>(engineChannel('openImage'), join(dir, 'chosen/camera.png'));
    expect(opened).toMatchObject({ ok: true, result: { width: 512, height: 512 } });
    next = { canceled: true, filePaths: [] };
    expect(await ipc.invoke(DIALOG_CHANNELS.openFolder)).toEqual({ ok: true, result: null });
    next = { canceled: false, filePaths: [join(dir, 'chosen')] };
    expect(await ipc.invoke(DIALOG_CHANNELS.openFolder)).toEqual({ ok: true, result: join(dir, 'chosen') });
    expect(await ipc.invoke(engineChannel('browse'), join(dir, 'chosen'))).toMatchObject({
      ok: true,
      result: { entries: [{ name: 'camera.png', kind: 'image' }] },
    });
    expect(await ipc.invoke(DIALOG_CHANNELS.saveFile, 'x.png')).toEqual({ ok: true, result: join(dir, 'out.png') });
    // A checkpoint the user picks becomes readable (a prune or distillation teacher).
    const ckpt = join(dir, 'teacher.pth');
    await expect(host.paths.check(ckpt, 'read')).rejects.toThrow(/not allowed/);
    next = { canceled: false, filePaths: [ckpt] };
    expect(await ipc.invoke(DIALOG_CHANNELS.openCheckpoint)).toEqual({ ok: true, result: ckpt });
    expect(await host.paths.check(ckpt, 'read')).toBe(ckpt);
    // "Import model…": any importable model; a model.json brings the weight shards it names, nothing else.
    await mkdir(join(dir, 'models-in/esrgan-slim'), { recursive: true });
    const onnx = join(dir, 'models-in/foreign.onnx');
    next = { canceled: false, filePaths: [onnx] };
    expect(await ipc.invoke(DIALOG_CHANNELS.openModel)).toEqual({ ok: true, result: onnx });
    expect(filters.at(-1)).toEqual(['pth', 'pt', 'safetensors', 'onnx', 'json']);
    expect(await host.paths.check(onnx, 'read')).toBe(onnx);
    const keras = join(dir, 'models-in/esrgan-slim/model.json');
    await writeFile(keras, JSON.stringify({ weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }] }));
    await writeFile(join(dir, 'models-in/esrgan-slim/group1-shard1of1.bin'), Buffer.alloc(4));
    await writeFile(join(dir, 'models-in/esrgan-slim/notes.txt'), 'not a shard');
    next = { canceled: false, filePaths: [keras] };
    expect(await ipc.invoke(DIALOG_CHANNELS.openModel)).toEqual({ ok: true, result: keras });
    expect(await host.paths.check(join(dir, 'models-in/esrgan-slim/group1-shard1of1.bin'), 'read')).toMatch(/group1-shard1of1\.bin$/);
    await expect(host.paths.check(join(dir, 'models-in/other.onnx'), 'read')).rejects.toThrow(/not allowed/);
    await expect(host.paths.check(join(dir, 'models-in/esrgan-slim/notes.txt'), 'read')).rejects.toThrow(/not allowed/);
    next = { canceled: true, filePaths: [] };
    expect(await ipc.invoke(DIALOG_CHANNELS.openModel)).toEqual({ ok: true, result: null });
    const id = (opened as { result: ImageRef }).result.id;
    expect(await ipc.invoke(engineChannel('saveImage'), id, join(dir, 'out.png'))).toEqual({ ok: true, result: join(dir, 'out.png') });
    expect(await ipc.invoke(engineChannel('saveImage'), id, join(dir, 'elsewhere.png'))).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await ipc.invoke(DIALOG_CHANNELS.revealInFolder, join(dir, 'not-chosen.png'))).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await ipc.invoke(DIALOG_CHANNELS.revealInFolder, join(dir, 'out.png'))).toEqual({ ok: true });
    expect(revealed).toEqual([join(dir, 'out.png')]);
  });

  it('the preload bridge exposes named functions only, and each subscription returns its unsubscribe', async () => {
    const invoked: [string, unknown[]][] = [];
    const listeners = new Map<string, Set<(e: unknown, v: unknown) => void>>();
    const bridge = buildBridge(
      {
        invoke: async (c, ...a) => (invoked.push([c, a]), { ok: true, result: 1 }),
        on: (c, l) => void (listeners.get(c) ?? listeners.set(c, new Set()).get(c)!).add(l),
        removeListener: (c, l) => void listeners.get(c)?.delete(l),
      },
      { getPathForFile: () => '' },
    );
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true);
    expect('invoke' in bridge || 'send' in bridge || 'ipcRenderer' in bridge).toBe(false);
    await bridge.cancelJob('j1');
    await bridge.openFiles();
    expect(invoked).toEqual([
      ['engine:cancelJob', ['j1']],
      ['dialog:openFiles', []],
    ]);
    const got: unknown[] = [];
    const off = bridge.onEvent((e) => got.push(e));
    const offMenu = bridge.onMenu((a) => got.push(a));
    for (const l of listeners.get(EVENT_CHANNEL)!) l({}, { type: 'job' });
    for (const l of listeners.get(MENU_CHANNEL)!) l({}, { view: 'batch' });
    off();
    offMenu();
    expect(listeners.get(EVENT_CHANNEL)!.size + listeners.get(MENU_CHANNEL)!.size).toBe(0);
    expect(got).toEqual([{ type: 'job' }, { view: 'batch' }]);
  });

  it('the menu has unique accelerators and sends actions to the page', () => {
    const sent: unknown[] = [];
    const items = (t: readonly MenuItemTemplate[]): MenuItemTemplate[] => t.flatMap((i) => [i, ...items(i.submenu ?? [])]);
    const all = items(menuTemplate((a) => sent.push(a), false));
    const accels = all.flatMap((i) => (i.accelerator ? [i.accelerator] : []));
    expect(new Set(accels).size).toBe(accels.length);
    expect(accels).toEqual(expect.arrayContaining(['CmdOrCtrl+O', 'CmdOrCtrl+S', 'CmdOrCtrl+Enter', 'CmdOrCtrl+1', 'CmdOrCtrl+5']));
    all.find((i) => i.accelerator === 'CmdOrCtrl+O')!.click!();
    all.find((i) => i.accelerator === 'CmdOrCtrl+3')!.click!();
    expect(sent).toEqual([{ command: 'open' }, { view: 'batch' }]);
  });

  describe('startApp wiring', () => {
    let running: RunningApp;
    const calls: string[] = [];
    const protocols = new Map<string, (r: Request) => Promise<Response> | Response>();
    const permission: {
      request?: (wc: unknown, p: string, cb: (g: boolean) => void) => void;
      check?: (wc: unknown, p: string) => boolean;
    } = {};
    const ipc = fakeIpc();
    let menu: readonly MenuItemTemplate[] = [];

    beforeAll(async () => {
      await mkdir(join(dir, 'renderer'));
      await writeFile(join(dir, 'renderer/index.html'), '<html><head></head><body>app</body></html>');
      const fake: ElectronMain = {
        app: {
          whenReady: async () => void calls.push('ready'),
          on: (ev: string) => void calls.push(`on:${ev}`),
          requestSingleInstanceLock: () => true,
          quit: () => {},
          getPath: () => join(dir, 'userdata'),
          getVersion: () => '9.9.9',
          isPackaged: false,
        },
        BrowserWindow: FakeWindow,
        ipcMain: ipc.ipcMain,
        dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
        Menu: { buildFromTemplate: (t) => ((menu = t), 'menu'), setApplicationMenu: (m) => void calls.push(`menu:${String(m)}`) },
        shell: { showItemInFolder: () => {} },
        protocol: {
          registerSchemesAsPrivileged: (s) => void calls.push(`schemes:${s.map((x) => x.scheme).join(',')}`),
          handle: (scheme, h) => void protocols.set(scheme, h),
        },
        session: {
          defaultSession: {
            setPermissionRequestHandler: (h) => void (permission.request = h),
            setPermissionCheckHandler: (h) => void (permission.check = h),
          },
        },
      };
      running = (await startApp(fake, {
        rendererDir: join(dir, 'renderer'),
        preloadPath: '/x/preload.cjs',
        modelsDir: join(dir, 'models'),
        openPaths: [join(dir, 'not-chosen.png')],
      }))!;
    });
    afterAll(async () => running?.host.close());

    it('registers privileged schemes before ready, denies permissions, sets the menu and the IPC handlers', async () => {
      expect(calls.indexOf('schemes:minisr-app,minisr-image')).toBeLessThan(calls.indexOf('ready'));
      expect(calls).toContain('on:web-contents-created');
      expect(calls).toContain('menu:menu');
      expect(menu.length).toBeGreaterThan(2);
      const granted: boolean[] = [];
      for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read']) permission.request!({}, p, (g) => granted.push(g));
      expect(granted).toEqual([false, false, false, false]);
      expect(permission.check!({}, 'media')).toBe(false);
      expect(ipc.handlers.size).toBe(ALL_INVOKE_CHANNELS.length);
      expect(await ipc.invoke(engineChannel('systemInfo'))).toMatchObject({ ok: true, result: { transport: 'ipc', version: '9.9.9' } });
      // A path given on the command line counts as chosen.
      expect(await ipc.invoke(engineChannel('openImage'), join(dir, 'not-chosen.png'))).toMatchObject({ ok: true });
    });

    it('serves the renderer with a strict CSP and refuses paths outside it; serves image regions', async () => {
      const page = await protocols.get('minisr-app')!(new Request('minisr-app://app/index.html'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(ELECTRON_CSP);
      expect(ELECTRON_CSP).toContain("script-src 'self'");
      expect((await protocols.get('minisr-app')!(new Request('minisr-app://app/%2e%2e/chosen/camera.png'))).status).toBe(404);
      expect((await protocols.get('minisr-app')!(new Request('minisr-app://other/index.html'))).status).toBe(404);
      expect((await protocols.get('minisr-app')!(new Request('minisr-app://app/bad%zz.js'))).status).toBe(404); // a stray '%' is no file, not a rejection
      const ref = (await ipc.invoke<ImageRef>(engineChannel('openImage'), join(dir, 'not-chosen.png'))) as { result: ImageRef };
      const img = await protocols.get('minisr-image')!(
        new Request(`minisr-image://image/${ref.result.id}?width=100&height=50&resample=bicubic&scale=2&format=png`),
      );
      expect(img.headers.get('content-type')).toBe('image/png');
      expect(await sharp(Buffer.from(await img.arrayBuffer())).metadata()).toMatchObject({ width: 200, height: 100 });
      expect((await protocols.get('minisr-image')!(new Request('minisr-image://image/nope'))).status).toBe(404);
      expect((await protocols.get('minisr-image')!(new Request(`minisr-image://image/${ref.result.id}?left=-5`))).status).toBe(400);
    });
  });
});
