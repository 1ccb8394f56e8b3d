import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, dropFiles, startRig, type Rig } from './harness';

/** A photo editor's 16-bit PNG stays 16-bit through the app (web mode in Chromium, real engine). */
describe.skipIf(!chromiumAvailable())('16-bit sources in Chromium (e2e)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => rig?.close());

  it('a 16-bit PNG in gives a 16-bit PNG out by default', async () => {
    const [w, h] = [24, 16];
    const px = new Uint16Array(w * h * 3).map((_, i) => (i * 2731) % 65536);
    const deep = await sharp(Buffer.from(px.buffer), { raw: { width: w, height: h, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const models = await rig.host.listModels();
    const page = await rig.newPage();
    await dropFiles(page, '[data-testid=dropzone]', [{ name: 'deep.png', bytes: deep, type: 'image/png' }]);
    await page.getByText('deep.png', { exact: false }).first().waitFor();
    await page.getByRole('radio', { name: models.find((m) => m.id === rig.compactModel)!.label }).check();
    await page.getByRole('button', { name: 'Run upscale' }).click();
    await page.getByTestId('upscale-result').waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save result' }).click()]);
    const saved = join(rig.dir, 'deep_x2.png');
    await download.saveAs(saved);
    expect(await sharp(saved).metadata()).toMatchObject({ format: 'png', width: 48, height: 32, depth: 'ushort' });
    await page.context().close();
  });
});
