import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyQueuePort } from '../../engine/queue/lazy-port';
import { startRedis, type TestRedis } from '../helpers/redis';
import { chromiumAvailable, SAMPLES, startRig, type Rig } from './harness';

/**
 * The app's queue in Chromium (web mode, real engine): Settings → Queue with a redis-server on a
 * loopback port, the Batch view's "Send to queue", one `minisr worker` process doing the work,
 * and a corrupt image failed with the engine's reason, still shown after a reload.
 */

const CLI = resolve(import.meta.dirname, '../../scripts/minisr.mjs');

describe.skipIf(!chromiumAvailable())('job queue from the Batch view (e2e)', () => {
  let rig: Rig;
  let redis: TestRedis;
  let worker: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    redis = await startRedis();
    rig = await startRig({ queue: lazyQueuePort() });
    worker = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--ep', 'cpu', '--threads', '1'], { cwd: rig.dir });
    for (const s of [worker.stdout!, worker.stderr!]) s.on('data', (d: Buffer) => (log += d.toString()));
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await rig?.close();
    await redis?.stop();
  });

  it('a batch with one corrupt image sent to the queue completes and shows the failure with its reason', async () => {
    const input = join(rig.root, 'photos');
    const output = join(rig.root, 'upscaled');
    await mkdir(input);
    await mkdir(output);
    for (const n of ['camera.png', 'coffee.png']) await sharp(join(SAMPLES, n)).resize({ width: 64 }).toFile(join(input, n));
    await writeFile(join(input, 'broken.png'), (await readFile(join(SAMPLES, 'coffee.png'))).subarray(0, 300));

    await expect.poll(() => log, { timeout: 60_000, interval: 100 }).toMatch(/ready on/);
    const page = await rig.newPage();
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('textbox', { name: 'Queue URL' }).fill(redis.url);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.getByTestId('queue-check').innerText(), { timeout: 10_000 }).toMatch(/^Reachable: Redis \d/);
    await page.getByRole('textbox', { name: 'Queue URL' }).blur();
    await expect.poll(async () => (await rig.host.getSettings()).queueUrl).toBe(redis.url);

    await page.getByRole('tab', { name: 'Batch' }).click();
    await page.getByRole('button', { name: 'Add folder…' }).click();
    await page.getByRole('button', { name: `Open folder ${rig.root}` }).click();
    await page.getByRole('button', { name: 'Open folder photos' }).click();
    await page.getByRole('button', { name: 'Choose this folder' }).click();
    await page.getByRole('button', { name: 'Choose output folder' }).click();
    await page.getByRole('button', { name: `Open folder ${rig.root}` }).click();
    await page.getByRole('button', { name: 'Open folder upscaled' }).click();
    await page.getByRole('button', { name: 'Choose this folder' }).click();
    await page.getByLabel('Batch model').selectOption(rig.compactModel);
    await page.getByRole('button', { name: 'Send to queue' }).click();

    const summary = page.getByTestId('batch-summary');
    await expect.poll(() => summary.innerText(), { timeout: 90_000, interval: 250 }).toMatch(/^2 done · 1 failed · 0 skipped · 0 to go/);
    const failures = await page.getByRole('region', { name: 'Failures' }).innerText();
    expect(failures).toMatch(/broken\.png: .*(truncated|corrupt|premature|invalid|error)/i);
    expect((await readdir(output)).sort()).toEqual(['camera', 'coffee'].map((n) => `${n}_${rig.compactModel}_x2.png`));
    expect(log).toMatch(/failed {2}\S*broken\.png/); // the worker did it, not the page's engine

    // A reload finds the batch again by its remembered id.
    await page.reload();
    await page.getByRole('tab', { name: 'Batch' }).click();
    await expect.poll(() => summary.innerText(), { timeout: 20_000, interval: 250 }).toMatch(/^2 done · 1 failed · 0 skipped · 0 to go/);
    expect(await page.getByRole('region', { name: 'Failures' }).innerText()).toContain('broken.png');
    await page.context().close();
  });
});
