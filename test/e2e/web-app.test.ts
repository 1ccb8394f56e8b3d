import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import type { ModelInfo } from '../../engine/api/types';
import { chromiumAvailable, dropFiles, SAMPLES, SCREENSHOTS, SHIPPED_TEACHER, startRig, type Rig } from './harness';

/**
 * The app in a real browser against web mode, the real engine and real models. When no compact
 * model is shipped yet the compact slot is a random-weight EDSRmini (see harness.ts): every
 * step runs for real, but its pictures are not meaningful upscales.
 */

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

describe.skipIf(!chromiumAvailable())('web mode in Chromium (e2e)', () => {
  let rig: Rig;
  let models: ModelInfo[];
  const label = (id: string) => models.find((m) => m.id === id)!.label;

  beforeAll(async () => {
    rig = await startRig();
    models = await rig.host.listModels();
  });
  afterAll(async () => rig?.close());

  it('refuses HTTP and WebSocket access without the token', async () => {
    const base = `http://127.0.0.1:${rig.server.port}`;
    // A fresh browser context has no session cookie: the page itself is refused.
    const ctx = await rig.browser.newContext();
    const page = await ctx.newPage();
    expect((await page.goto(`${base}/`))!.status()).toBe(401);
    expect((await page.goto(`${base}/?token=guess`))!.status()).toBe(401);
    // From that unauthenticated page, the WebSocket upgrade fails too.
    const opened = await page.evaluate(
      (url) =>
        new Promise<string>((ok) => {
          const ws = new WebSocket(url);
          ws.onopen = () => ok('open');
          ws.onerror = () => ok('refused');
        }),
      `ws://127.0.0.1:${rig.server.port}/api/ws`,
    );
    expect(opened).toBe('refused');
    await ctx.close();
    const status = await new Promise<string>((ok) => {
      const ws = new NodeWebSocket(`ws://127.0.0.1:${rig.server.port}/api/ws`);
      ws.on('open', () => ok('open'));
      ws.on('error', (e) => ok(e.message));
    });
    expect(status).toMatch(/401/);
  });

  it('answers bad WebSocket messages and paths outside the roots with clear errors', async () => {
    const page = await rig.newPage();
    const replies = await page.evaluate(
      async ({ url, root }) => {
        const ws = new WebSocket(url);
        await new Promise((ok) => (ws.onopen = ok));
        const out: unknown[] = [];
        const got = new Promise<void>((ok) => {
          ws.onmessage = (m) => {
            const msg = JSON.parse(String(m.data));
            if ('event' in msg) return;
            out.push(msg);
            if (out.length === 5) ok();
          };
        });
        ws.send('nonsense');
        ws.send(JSON.stringify({ id: 1, method: 'startUpscale', params: [{ imageId: 'x', modelId: 'm', scale: 5 }] }));
        ws.send(JSON.stringify({ id: 2, method: 'openImage', params: ['/etc/passwd'] }));
        ws.send(JSON.stringify({ id: 3, method: 'browse', params: [root + '/..'] }));
        ws.send(JSON.stringify({ id: 4, method: 'deleteEverything', params: [] }));
        await got;
        ws.close();
        return out;
      },
      { url: `ws://127.0.0.1:${rig.server.port}/api/ws?token=${rig.server.token}`, root: rig.root },
    );
    const byId = (id: number | null) => replies.find((r) => (r as { id: number | null }).id === id);
    expect(byId(null)).toMatchObject({ error: { code: 'bad-request', message: 'message is not valid JSON' } });
    expect(byId(1)).toMatchObject({
      error: {
        code: 'bad-request',
        field: 'startUpscale.params.0.scale',
        message: 'invalid startUpscale.params.0.scale: must be 2, 3, 4 or 8',
      },
    });
    expect(byId(2)).toMatchObject({
      error: {
        code: 'forbidden',
        message: '/etc/passwd: not allowed to read (only files and folders you chose, and files MiniSR created, can be used)',
      },
    });
    expect(byId(3)).toMatchObject({ error: { code: 'forbidden' } });
    expect(byId(4)).toMatchObject({ error: { code: 'bad-request', field: 'method' } });
    await page.context().close();
  });

  it('drop an image, upscale with the compact model, compare two models, save', async () => {
    const page = await rig.newPage();
    await shot(page, 'empty');
    // The cat's face from a sample: small enough for the large teacher on two shared cores.
    const face = await sharp(join(SAMPLES, 'chelsea.png')).extract({ left: 100, top: 20, width: 240, height: 160 }).png().toBuffer();
    await dropFiles(page, '[data-testid=dropzone]', [{ name: 'chelsea.png', bytes: face }]);
    await page.getByText('chelsea.png', { exact: false }).first().waitFor();
    await page.getByRole('radio', { name: label(rig.compactModel) }).check();
    await page.getByRole('button', { name: 'Run upscale' }).click();
    const result = page.getByTestId('upscale-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.innerText()).toContain('480×320');
    await shot(page, 'upscale');

    // Save: web mode downloads the file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save result' }).click()]);
    const saved = join(rig.dir, 'saved.png');
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toBe(`chelsea_${rig.compactModel}_x2.png`);
    expect(await sharp(saved).metadata()).toMatchObject({ format: 'png', width: 480, height: 320 });

    // Compare: teacher (A) against the compact model (B), side by side with the bicubic original.
    await page.getByRole('tab', { name: 'Compare' }).click();
    await page.getByLabel('Model A', { exact: true }).selectOption(SHIPPED_TEACHER);
    await page.getByLabel('Model B', { exact: true }).selectOption(rig.compactModel);
    await page.getByRole('button', { name: 'Run model A' }).click();
    await page.getByRole('radiogroup', { name: 'Compare mode' }).getByText('Side by side').click();
    // Each model's pane label gains its timing once its result is there.
    for (const pane of ['pane-label-a', 'pane-label-b']) {
      await expect.poll(() => page.getByTestId(pane).innerText(), { timeout: 90_000, interval: 250 }).toMatch(/\d(\.\d+)? m?s on \w+/);
    }
    await page.waitForFunction(
      () => {
        const v = document.querySelector('[data-testid=compare-viewer]');
        const imgs = v ? Array.from(v.querySelectorAll('img')) : [];
        return (
          imgs.length >= 3 && imgs.every((i) => i.complete && i.naturalWidth > 0) && !document.querySelector('[data-testid=region-loading]')
        );
      },
      undefined,
      { timeout: 90_000 },
    );
    const labels = await page.locator('[data-testid^=pane-label-]').allInnerTexts();
    expect(labels.join(' | ')).toContain(label(SHIPPED_TEACHER));
    expect(labels.join(' | ')).toContain(label(rig.compactModel));
    await shot(page, 'compare');
    await page.context().close();
  });

  it('batch a folder of 5 with one corrupt file: 4 done, 1 failed with its reason', async () => {
    const input = join(rig.root, 'photos');
    const output = join(rig.root, 'upscaled');
    await mkdir(input);
    await mkdir(output);
    for (const n of ['camera.png', 'coffee.png', 'chelsea.png', 'astronaut.png']) {
      // Quarter-size copies keep the run short; the pipeline is the same.
      await sharp(join(SAMPLES, n)).resize({ width: 160 }).toFile(join(input, n));
    }
    await writeFile(join(input, 'broken.png'), Buffer.concat([(await readFile(join(SAMPLES, 'coffee.png'))).subarray(0, 300)]));
    const page = await rig.newPage();
    await page.getByRole('tab', { name: 'Batch' }).click();
    await page.getByRole('button', { name: 'Add folder…' }).click();
    await page.getByRole('button', { name: `Open folder ${rig.root}` }).click();
    await page.getByRole('button', { name: 'Open folder photos' }).click();
    // Browsing is a round trip: choose only once the dialog shows the folder.
    await page
      .getByTestId('browse-path')
      .filter({ hasText: /photos$/ })
      .waitFor();
    await page.getByRole('button', { name: 'Choose this folder' }).click();
    await page.getByRole('button', { name: 'Choose output folder' }).click();
    await page.getByRole('button', { name: `Open folder ${rig.root}` }).click();
    await page.getByRole('button', { name: 'Open folder upscaled' }).click();
    // Browsing is a round trip: choose only once the dialog shows the folder.
    await page
      .getByTestId('browse-path')
      .filter({ hasText: /upscaled$/ })
      .waitFor();
    await page.getByRole('button', { name: 'Choose this folder' }).click();
    await page.getByLabel('Batch model').selectOption(rig.compactModel);
    await page.getByRole('button', { name: 'Start batch' }).click();
    const summary = page.getByTestId('batch-summary');
    await expect.poll(() => summary.innerText(), { timeout: 90_000, interval: 250 }).toBe('4 done · 1 failed · 0 skipped · 0 to go');
    const failures = await page.getByRole('region', { name: 'Failures' }).innerText();
    expect(failures).toContain('broken.png');
    expect(failures).toMatch(/broken\.png: .*(truncated|corrupt|premature|invalid|error)/i);
    expect((await readdir(output)).filter((f) => f.endsWith('.png')).sort()).toEqual(
      ['astronaut', 'camera', 'chelsea', 'coffee'].map((n) => `${n}_${rig.compactModel}_x2.png`),
    );
    await shot(page, 'batch');
    // The history keeps it: after a reload the Recent list shows the batch with its counts.
    await page.reload();
    await page.getByRole('tab', { name: 'Batch' }).click();
    const recent = page.getByRole('region', { name: 'Recent batches' });
    await expect.poll(() => recent.innerText(), { timeout: 10_000, interval: 250 }).toContain('4 done · 1 failed · 0 skipped');
    expect(await recent.innerText()).toContain('photos');
    await page.context().close();
  });

  it('stays responsive while a 2000x2000 photo is upscaled (no main-thread task over 250 ms)', async () => {
    const big = join(rig.dir, 'astronaut-2000.png');
    await sharp(join(SAMPLES, 'astronaut.png')).resize(2000, 2000, { kernel: 'lanczos3' }).toFile(big);
    const page = await rig.newPage();
    await dropFiles(page, '[data-testid=dropzone]', [{ name: 'astronaut-2000.png', bytes: await readFile(big) }]);
    await page.getByText('2000×2000', { exact: false }).first().waitFor();
    await page.getByRole('radio', { name: label(rig.compactModel) }).check();
    await page.waitForTimeout(500); // let the preview settle before measuring
    await page.evaluate(() => {
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
    });
    // The probe works: a deliberate 150 ms task is seen (then forgotten before the run).
    await page.evaluate(() =>
      setTimeout(() => {
        const end = performance.now() + 150;
        while (performance.now() < end) {
          // busy
        }
      }),
    );
    await expect
      .poll(() => page.evaluate(() => Math.max(0, ...(window as unknown as { __longTasks: number[] }).__longTasks)), { timeout: 5_000 })
      .toBeGreaterThanOrEqual(150);
    await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks = []));
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Run upscale' }).click();
    await page.getByTestId('upscale-progress').waitFor({ timeout: 30_000 });
    await shot(page, 'upscale-running');
    const result = page.getByTestId('upscale-result');
    await result.waitFor({ timeout: 110_000 });
    const seconds = (Date.now() - t0) / 1000;
    expect(await result.innerText()).toContain('4000×4000');
    const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
    console.log(
      `2000x2000 x2 with ${rig.compactModel}: ${seconds.toFixed(1)} s; long tasks during the run (ms): ${JSON.stringify(longTasks.map((d) => Math.round(d)))}`,
    );
    // What this guards against is work on the page's thread that grows with the image (a decode or
    // a pixel loop over 4000x4000 takes seconds). The page's own tasks are 50-70 ms here when the
    // machine is quiet and reach 140 ms when other processes share its two cores.
    expect(Math.max(0, ...longTasks)).toBeLessThanOrEqual(250);
    await page.context().close();
  });

  it('distillation: start a short job, watch the loss chart update, pause, resume, cancel', async () => {
    const data = join(rig.root, 'train');
    await mkdir(data);
    for (const n of ['camera.png', 'coffee.png', 'chelsea.png', 'astronaut.png'])
      await sharp(join(SAMPLES, n)).resize({ width: 96 }).toFile(join(data, n));
    const page = await rig.newPage();
    await page.getByRole('tab', { name: 'Wizard' }).click();
    await page.getByLabel('Teacher model').selectOption(SHIPPED_TEACHER);
    await page.getByLabel('Student preset').selectOption('edsr-mini');
    await page.getByLabel('Steps', { exact: true }).fill('100000');
    await page.getByLabel('Batch', { exact: true }).fill('2');
    await page.getByLabel('Patch (LR pixels)').fill('24');
    await page.getByRole('textbox', { name: 'Training data folder' }).fill(data);
    await page.getByRole('button', { name: 'Start distillation' }).click();
    const stats = page.getByTestId('train-stats');
    const step = async () => Number(/Step ([\d,]+)/.exec(await stats.innerText())?.[1]?.replace(/,/g, '') ?? 0);
    await stats.waitFor({ timeout: 90_000 });
    await expect.poll(step, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(5);
    const lossShown = await page.getByLabel('Latest Loss').innerText();
    expect(Number(lossShown)).toBeGreaterThan(0);
    const before = await step();
    await expect.poll(step, { timeout: 30_000, interval: 200 }).toBeGreaterThan(before + 5); // the chart keeps moving
    await page.getByLabel('Loss chart').scrollIntoViewIfNeeded();
    await shot(page, 'wizard');

    await page.getByRole('button', { name: 'Pause distillation' }).click();
    await expect.poll(() => page.getByTestId('distill-state').innerText(), { timeout: 10_000 }).toMatch(/^paused$/i);
    await page.waitForTimeout(500); // a step in flight may still land
    const held = await step();
    await page.waitForTimeout(1500);
    expect(await step()).toBe(held);
    await page.getByRole('button', { name: 'Resume distillation' }).click();
    await expect.poll(step, { timeout: 30_000, interval: 200 }).toBeGreaterThan(held);
    await page.getByRole('button', { name: 'Cancel distillation' }).click();
    await expect.poll(() => page.getByTestId('distill-state').innerText(), { timeout: 30_000 }).toMatch(/^cancelled$/i);
    expect((await rig.host.listJobs()).find((j) => j.kind === 'distill')?.state).toBe('cancelled');
    await page.context().close();
  });

  it('shows the settings view', async () => {
    const page = await rig.newPage();
    await page.getByRole('tab', { name: 'Settings' }).click({ timeout: 10_000 });
    await page.getByLabel('Tile size').waitFor();
    await shot(page, 'settings');
    await page.context().close();
  });
});
