import { resolve } from 'node:path';

/**
 * Files the operating system asks the app to open: on the command line, from a second launch
 * (the single-instance lock forwards its arguments) and macOS `open-file`. The user chose them,
 * so each joins the path allow-list; they wait until the page has asked for them once (it may
 * still be loading) and are pushed to it after that.
 */
export class OpenRequests {
  private readonly incoming: string[] = [];
  private readonly pending: string[] = [];
  private allow: ((path: string) => Promise<string>) | undefined;
  private push: ((paths: string[]) => void) | undefined;
  private pageAsked = false;
  private chain: Promise<void> = Promise.resolve();

  /** Absolute paths, resolved against the folder the request came from. */
  add(paths: readonly string[], cwd: string = process.cwd()): void {
    if (paths.length === 0) return;
    this.incoming.push(...paths.map((p) => resolve(cwd, p)));
    this.flush();
  }

  /** Once the engine is up: how a path joins the allow-list (canonical path back), and how the page is told. */
  connect(allow: (path: string) => Promise<string>, push: (paths: string[]) => void): Promise<void> {
    this.allow = allow;
    this.push = push;
    this.flush();
    return this.chain;
  }

  /** The page's first call: everything asked so far; later requests are pushed. */
  async take(): Promise<string[]> {
    await this.chain;
    this.pageAsked = true;
    return this.pending.splice(0);
  }

  private flush(): void {
    this.chain = this.chain.then(async () => {
      const allow = this.allow;
      if (!allow) return;
      const batch: string[] = [];
      // A missing file stays in the list: opening it then reports why, with its name.
      for (const p of this.incoming.splice(0)) batch.push(await allow(p).catch(() => p));
      if (batch.length === 0) return;
      if (this.pageAsked && this.push) this.push(batch);
      else this.pending.push(...batch);
    });
  }
}

/** File arguments of an Electron command line (`electron . a.png` in a checkout, `MiniSR a.png` packaged). */
export function pathsFromArgv(argv: readonly string[], isPackaged: boolean): string[] {
  return argv.slice(isPackaged ? 1 : 2).filter((a) => !a.startsWith('-'));
}
