import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALOG_CHANNELS, engineChannel, OPEN_CHANNEL, type Envelope } from '../../electron/channels';
import type { BrowserWindowLike, ElectronEvent, ElectronMain, IpcMainInvokeEventLike } from '../../electron/main/electron-api';
import { startApp, type RunningApp } from '../../electron/main/index';
import { pathsFromArgv } from '../../electron/main/open-requests';
import { APP_URL } from '../../electron/main/window';

const SAMPLE = join(import.meta.dirname, '../../resources/samples/camera.png');
const FIXTURES = join(import.meta.dirname, '../fixtures/import');
const ESRGAN_SLIM_X2 = join(import.meta.dirname, '../../node_modules/@upscalerjs/esrgan-slim/models/x2');
const FRAME: IpcMainInvokeEventLike = { senderFrame: { url: APP_URL } };
type Handler = (e: IpcMainInvokeEventLike, ...a: unknown[]) => Promise<unknown>;
type AppListener = (...args: never[]) => void;

/** Fake Electron that records the app's listeners, window focus and what is sent to the page. */
function fakeElectron(dir: string, haveLock: boolean) {
  const listeners = new Map<string, AppListener>();
  const handlers = new Map<string, Handler>();
  const record = { quit: 0, focus: 0, restore: 0, minimized: false, sent: [] as [string, unknown[]][] };
  class Window implements BrowserWindowLike {
    readonly webContents = {
      on: () => {},
      setWindowOpenHandler: () => {},
      send: (channel: string, ...args: unknown[]) => void record.sent.push([channel, args]),
      isDestroyed: () => false,
    };
    async loadURL() {}
    once() {}
    on() {}
    show() {}
    isMinimized = () => record.minimized;
    restore = () => void record.restore++;
    focus = () => void record.focus++;
  }
  const electron: ElectronMain = {
    app: {
      whenReady: async () => {},
      on: (ev: string, l: AppListener) => void listeners.set(ev, l),
      requestSingleInstanceLock: () => haveLock,
      quit: () => void record.quit++,
      getPath: () => join(dir, 'userdata'),
      getVersion: () => '1.0.0',
      isPackaged: true,
    },
    BrowserWindow: Window,
    ipcMain: { handle: (c: string, h: Handler) => void handlers.set(c, h), removeHandler: (c: string) => void handlers.delete(c) },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showSaveDialog: async () => ({ canceled: true }) },
    Menu: { buildFromTemplate: () => 'menu', setApplicationMenu: () => {} },
    shell: { showItemInFolder: () => {} },
    protocol: { registerSchemesAsPrivileged: () => {}, handle: () => {} },
    session: { defaultSession: { setPermissionRequestHandler: () => {}, setPermissionCheckHandler: () => {} } },
  };
  const invoke = <T>(channel: string, ...args: unknown[]) => handlers.get(channel)!(FRAME, ...args) as Promise<Envelope<T>>;
  const emit = (ev: string, e: ElectronEvent, ...args: unknown[]) =>
    (listeners.get(ev) as unknown as (...a: unknown[]) => void)(e, ...args);
  return { electron, record, listeners, invoke, emit };
}

const settle = () => new Promise((ok) => setTimeout(ok, 50));

describe('files the OS asks the desktop app to open (faked Electron)', () => {
  let dir: string;
  let files: Record<'argv' | 'second' | 'finder', string>;
  let running: RunningApp | undefined;
  let fake: ReturnType<typeof fakeElectron>;

  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'minisr-open-')));
    await mkdir(join(dir, 'renderer'));
    await writeFile(join(dir, 'renderer/index.html'), '<html><head></head><body></body></html>');
    files = { argv: join(dir, 'argv.png'), second: join(dir, 'second.png'), finder: join(dir, 'finder.png') };
    for (const f of Object.values(files)) await copyFile(SAMPLE, f);
    fake = fakeElectron(dir, true);
    running = await startApp(fake.electron, {
      rendererDir: join(dir, 'renderer'),
      preloadPath: '/x/preload.cjs',
      modelsDir: join(dir, 'models'),
      openPaths: pathsFromArgv(['/opt/MiniSR/minisr', '--no-sandbox', files.argv], true),
    });
  });
  afterAll(async () => {
    await running?.host.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a second launch does not start: it quits and leaves its files to the running instance', async () => {
    const second = fakeElectron(dir, false);
    expect(await startApp(second.electron, { rendererDir: join(dir, 'renderer'), preloadPath: '/x/preload.cjs' })).toBeUndefined();
    expect(second.record.quit).toBe(1);
    expect(second.listeners.has('second-instance')).toBe(false);
  });

  it('command-line files wait for the page, which takes them once; they are allowed for reading', async () => {
    expect(await fake.invoke(DIALOG_CHANNELS.takeOpenRequests)).toEqual({ ok: true, result: [files.argv] });
    expect(await fake.invoke(DIALOG_CHANNELS.takeOpenRequests)).toEqual({ ok: true, result: [] });
    expect(await fake.invoke(engineChannel('openImage'), files.argv)).toMatchObject({ ok: true });
    expect(fake.record.sent.filter(([c]) => c === OPEN_CHANNEL)).toEqual([]);
  });

  it('a second launch with files restores and focuses the window and sends them to the page', async () => {
    fake.record.minimized = true;
    fake.emit('second-instance', { preventDefault: () => {} }, ['/opt/MiniSR/minisr', 'second.png'], dir);
    await settle();
    expect(fake.record).toMatchObject({ restore: 1, focus: 1 });
    expect(fake.record.sent).toContainEqual([OPEN_CHANNEL, [[files.second]]]);
    expect(await fake.invoke(engineChannel('openImage'), files.second)).toMatchObject({ ok: true });
  });

  it('macOS open-file is taken over from the default handler and opens in the app', async () => {
    let prevented = false;
    fake.emit('open-file', { preventDefault: () => (prevented = true) }, files.finder);
    await settle();
    expect(prevented).toBe(true);
    expect(fake.record.sent).toContainEqual([OPEN_CHANNEL, [[files.finder]]]);
    expect(await fake.invoke(engineChannel('openImage'), files.finder)).toMatchObject({ ok: true });
  });

  it('dropped paths: images are allowed for reading, folders as read roots; anything else is skipped', async () => {
    await mkdir(join(dir, 'trip'));
    await copyFile(SAMPLE, join(dir, 'trip/beach.png'));
    await writeFile(join(dir, 'notes.txt'), 'not an image');
    const dropped = join(dir, 'dropped.png');
    await copyFile(SAMPLE, dropped);
    expect(await fake.invoke(engineChannel('openImage'), dropped)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const r = await fake.invoke(DIALOG_CHANNELS.openDropped, [dropped, join(dir, 'trip'), join(dir, 'notes.txt'), join(dir, 'gone.png')]);
    expect(r).toEqual({ ok: true, result: { files: [dropped], folders: [join(dir, 'trip')], models: [] } });
    expect(await fake.invoke(engineChannel('openImage'), dropped)).toMatchObject({ ok: true });
    expect(await fake.invoke(engineChannel('openImage'), join(dir, 'trip/beach.png'))).toMatchObject({ ok: true });
    expect(await fake.invoke(engineChannel('openImage'), join(dir, 'notes.txt'))).toMatchObject({ ok: false });
    expect(await fake.invoke(DIALOG_CHANNELS.openDropped, 'a.png')).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  it('dropped model files join the allow-list for the import (a model.json with the shards it names, nothing else) and import', async () => {
    await mkdir(join(dir, 'zoo/esrgan-slim/models/x2'), { recursive: true });
    const pth = join(dir, 'zoo/compact-x4.pth');
    await copyFile(join(FIXTURES, 'srvgg-x4.pth'), pth);
    const keras = join(dir, 'zoo/esrgan-slim/models/x2/model.json');
    const shard = join(dir, 'zoo/esrgan-slim/models/x2/group1-shard1of1.bin');
    await copyFile(join(ESRGAN_SLIM_X2, 'model.json'), keras);
    await copyFile(join(ESRGAN_SLIM_X2, 'group1-shard1of1.bin'), shard);
    const beside = join(dir, 'zoo/esrgan-slim/models/x2/notes.json');
    await writeFile(beside, '{}');
    await writeFile(join(dir, 'zoo/notes.json'), '{}');
    expect(await fake.invoke(engineChannel('importModel'), pth)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const r = await fake.invoke(DIALOG_CHANNELS.openDropped, [pth, keras, join(dir, 'zoo/notes.json')]);
    expect(r).toEqual({ ok: true, result: { files: [], folders: [], models: [pth, keras] } });
    expect(await fake.invoke(engineChannel('importModel'), pth)).toMatchObject({
      ok: true,
      result: { id: 'compact-x4', family: 'srvgg', scale: 4, source: 'user' },
    });
    // Readable: the model.json and the shard it names; not the other files beside it, nor above it.
    expect(await running!.host.paths.check(shard, 'read')).toBe(shard);
    await expect(running!.host.paths.check(beside, 'read')).rejects.toThrow(/not allowed/);
    await expect(running!.host.paths.check(join(dir, 'zoo/notes.json'), 'read')).rejects.toThrow(/not allowed/);
    // Named after the folders above it (no package.json here) and its scale.
    expect(await fake.invoke(engineChannel('importModel'), keras)).toMatchObject({ ok: true, result: { id: 'esrgan-slim-x2', scale: 2 } });
  });

  it('reads file arguments from both command-line shapes, skipping switches', () => {
    expect(pathsFromArgv(['electron', '.', '--inspect', 'a.png', 'b.tif'], false)).toEqual(['a.png', 'b.tif']);
    expect(pathsFromArgv(['/opt/MiniSR/minisr', 'a.png'], true)).toEqual(['a.png']);
  });
});
