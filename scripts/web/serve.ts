import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultConfigDir } from '../../engine/api/config-dir';
import { EngineHost } from '../../engine/api/host';
import { lazyQueuePort } from '../../engine/queue/lazy-port';
import { startWebServer, type WebServer } from './server';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const RENDERER_DIR = join(REPO_ROOT, 'dist', 'renderer');

export interface ServeOptions {
  readonly port?: number;
  readonly roots?: readonly string[];
  readonly configDir?: string;
  readonly rendererDir?: string;
  /** Run `npm run build:renderer` when the renderer is not built (default true). */
  readonly build?: boolean;
  readonly log?: (line: string) => void;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Newest modification time of the files the renderer bundle is built from (renderer/ and the API contract). */
function newestRendererSource(): number {
  const files = readdirSync(join(REPO_ROOT, 'renderer'), { recursive: true, encoding: 'utf8' }).map((f) => join(REPO_ROOT, 'renderer', f));
  return Math.max(...[...files, join(REPO_ROOT, 'engine/api/types.ts')].map((f) => statSync(f).mtimeMs));
}

/** Builds the renderer with vite when `dist/renderer/index.html` is missing or older than its sources; says what to do when it cannot. */
export function ensureRenderer(dir: string, log: (line: string) => void): void {
  const index = join(dir, 'index.html');
  if (existsSync(index) && (dir !== RENDERER_DIR || statSync(index).mtimeMs >= newestRendererSource())) return;
  log(`renderer not built or older than its sources (${dir}): running npm run build:renderer ...`);
  const r = spawnSync('npm', ['run', 'build:renderer'], { cwd: REPO_ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0 || !existsSync(join(dir, 'index.html'))) {
    throw new Error(`could not build the renderer (exit ${r.status}); run \`npm run build:renderer\` and look at its errors`);
  }
}

/** Starts web mode: engine host + loopback server. */
export async function serve(opts: ServeOptions = {}): Promise<{ server: WebServer; host: EngineHost }> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const rendererDir = opts.rendererDir ?? RENDERER_DIR;
  if (opts.build !== false) ensureRenderer(rendererDir, log);
  const host = await EngineHost.create({
    configDir: opts.configDir ?? defaultConfigDir(),
    transport: 'websocket',
    version: packageVersion(),
    roots: opts.roots ?? [],
    queue: lazyQueuePort(),
  });
  try {
    const server = await startWebServer({ host, rendererDir, ...(opts.port !== undefined ? { port: opts.port } : {}) });
    return { server, host };
  } catch (e) {
    await host.close();
    throw e;
  }
}
