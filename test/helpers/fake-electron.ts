import type { BrowserWindowLike, BrowserWindowOptions } from '../../electron/main/electron-api';

export type Listener = (...args: never[]) => unknown;

/** A fake BrowserWindow that records what the app did to it. */
export class FakeWindow implements BrowserWindowLike {
  static last: FakeWindow;
  readonly listeners = new Map<string, Listener>();
  loaded = '';
  openHandler?: (d: { url: string }) => { action: 'deny' };
  sent: [string, unknown[]][] = [];
  readonly webContents = {
    on: (ev: string, l: Listener) => void this.listeners.set(ev, l),
    setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' }) => void (this.openHandler = h),
    send: (channel: string, ...args: unknown[]) => void this.sent.push([channel, args]),
    isDestroyed: () => false,
  };
  constructor(readonly options: BrowserWindowOptions) {
    FakeWindow.last = this;
  }
  async loadURL(url: string) {
    this.loaded = url;
  }
  once() {}
  on() {}
  show() {}
  isMinimized = () => false;
  restore() {}
  focus() {}
}
