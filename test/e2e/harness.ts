import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { EngineHost, type HostOptions } from '../../engine/api/host';
import { startWebServer, type WebServer } from '../../scripts/web/server';
import { ensureRenderer, RENDERER_DIR } from '../../scripts/web/serve';
import { writeRandomModel } from '../helpers/random-model';

/**
 * End-to-end rig: web mode started in-process on a temporary config folder, with the real engine
 * and the shipped models, driven by playwright-core in Debian's Chromium.
 */

export const REPO = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.MINISR_CHROMIUM ?? '/usr/bin/chromium';
export const SAMPLES = join(REPO, 'resources/samples');
export const SCREENSHOTS = join(REPO, 'test-artifacts/screenshots');
export const SHIPPED_TEACHER = 'edsr-baseline-x2';
/** The shipped compact model, when there is one. */
export const SHIPPED_COMPACT = ['edsr-mini-x2', 'edsrmini-x2'].find((id) => existsSync(join(REPO, 'models', `${id}.onnx`)));
/** Otherwise a *random-weight* EDSRmini stands in (same architecture and cost; its output is not a real upscale). */
export const RANDOM_COMPACT = 'edsr-mini-random-x2';

/** Whether the browser is there; under CI its absence is a failure (.ci/run installs it). */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing; CI installs Debian's chromium (.ci/run)`);
  console.warn(`\n*** SKIPPING e2e: ${CHROMIUM} not found (apt-get install chromium) ***\n`);
  return false;
}

export interface Rig {
  readonly dir: string;
  readonly root: string;
  readonly host: EngineHost;
  readonly server: WebServer;
  readonly browser: Browser;
  readonly compactModel: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** `host`: what the test adds to the host (its job queue). */
export async function startRig(host: Pick<HostOptions, 'queue'> = {}): Promise<Rig> {
  ensureRenderer(RENDERER_DIR, (l) => console.log(l));
  const dir = await mkdtemp(join(tmpdir(), 'minisr-e2e-'));
  const root = join(dir, 'root');
  await mkdir(root);
  const configDir = join(dir, 'config');
  await mkdir(join(configDir, 'models'), { recursive: true });
  let compactModel = SHIPPED_COMPACT;
  if (!compactModel) {
    await writeRandomModel(join(configDir, 'models'), RANDOM_COMPACT);
    compactModel = RANDOM_COMPACT;
  }
  const engine = await EngineHost.create({ configDir, transport: 'websocket', version: 'e2e', roots: [root], ...host });
  const server = await startWebServer({ host: engine, rendererDir: RENDERER_DIR });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    dir,
    root,
    host: engine,
    server,
    browser,
    compactModel,
    async newPage() {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, colorScheme: 'dark' });
      const page = await ctx.newPage();
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && console.error(`[console] ${m.text()}`));
      explainOnFailure(page);
      await page.goto(server.url);
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Drops files onto an element the way a user's drag and drop does (a DataTransfer with File objects). */
export async function dropFiles(page: Page, selector: string, files: { name: string; bytes: Buffer; type?: string }[]): Promise<void> {
  const dt = await page.evaluateHandle(
    (list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      return dt;
    },
    files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64'), type: f.type ?? 'image/png' })),
  );
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

/**
 * When the calling test fails, prints what the page went through: its console, failed requests,
 * its WebSocket (frames each way, how it closed) and the start of its text. CI keeps only the end
 * of the output, and a timeout alone does not say whether the page, the socket or the engine stalled.
 */
function explainOnFailure(page: Page): void {
  const log: string[] = [];
  const t0 = Date.now();
  const note = (line: string) => log.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`.slice(0, 300));
  page.on('console', (m) => note(`console.${m.type()}: ${m.text()}`));
  page.on('requestfailed', (r) =>
    note(`request failed: ${r.method()} ${r.url().replace(/token=[^&]+/, 'token=…')} ${r.failure()?.errorText}`),
  );
  page.on('websocket', (ws) => {
    let sent = 0;
    let received = 0;
    note('websocket opened');
    ws.on('framesent', () => sent++);
    ws.on('framereceived', () => received++);
    ws.on('socketerror', (e) => note(`websocket error: ${e}`));
    ws.on('close', () => note(`websocket closed after ${sent} frames sent, ${received} received`));
    page.on('close', () => note(`page closed; websocket had ${sent} frames sent, ${received} received`));
  });
  onTestFailed(async ({ task }) => {
    const error = task.result?.errors?.[0]?.message?.split('\n').slice(0, 4).join(' | ') ?? 'unknown';
    const text = await page
      .evaluate(() => document.body.innerText.slice(0, 400))
      .catch((e: Error) => `(no text: ${e.message.split('\n')[0]})`);
    console.error(
      `--- the page of the failed test (${page.url().replace(/token=[^&]+/, 'token=…')}), which failed with: ${error}\n${log.slice(-30).join('\n')}\ntext: ${text}`,
    );
  });
}
