import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importKeras } from '../../engine/importers/keras';
import { upscalerjsModelJson } from '../../scripts/bench/tfjs-upscalerjs';
import { chromiumAvailable, SAMPLES, startRig, type Rig } from './harness';

/**
 * The wizard's stage 3 in Chromium (web mode, real engine) with an imported teacher: UpscalerJS's
 * esrgan-slim x2 as an ONNX file in the user's models folder (where an import puts it), picked in
 * the teacher list and distilled into EDSRmini for a few steps.
 */
describe.skipIf(!chromiumAvailable())('distillation from an imported teacher in Chromium (e2e)', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => rig?.close());

  it('lists the imported model as a teacher and distils it into EDSRmini', async () => {
    const data = join(rig.root, 'train');
    await mkdir(data);
    for (const n of ['camera.png', 'coffee.png', 'chelsea.png'])
      await sharp(join(SAMPLES, n)).resize({ width: 64, height: 64, fit: 'cover' }).toFile(join(data, n));
    const imported = await importKeras(upscalerjsModelJson('esrgan-slim', 2));
    await writeFile(join(rig.host.models.userDir, 'esrgan-slim-x2.onnx'), imported.onnx);
    await rig.host.setSettings({ ep: 'cpu' });

    const page = await rig.newPage();
    await page.getByRole('tab', { name: 'Wizard' }).click();
    const distil = page.getByRole('region', { name: 'Stage 3: Distil' });
    await distil.getByLabel('Teacher model').selectOption('esrgan-slim-x2');
    await distil.getByLabel('Student preset').selectOption('edsr-mini');
    await distil.getByLabel('Steps', { exact: true }).fill('3');
    await distil.getByLabel('Batch', { exact: true }).fill('1');
    await distil.getByLabel('Patch (LR pixels)').fill('16');
    await distil.getByRole('textbox', { name: 'Training data folder' }).fill(data);
    await distil.getByRole('button', { name: 'Start distillation' }).click();
    const result = page.getByTestId('distill-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('distill-state').innerText()).toMatch(/^done$/i);
    const params = Number(/Parameters\s*([\d,]+)/i.exec(await result.innerText())![1]!.replace(/,/g, ''));
    expect(params).toBe(49_603); // EDSRmini
    const job = (await rig.host.listJobs()).find((j) => j.kind === 'distill');
    expect(job?.state).toBe('done');
    expect(job?.title).toMatch(/^distil esrgan-slim-x2 into edsr-mini/);
    await page.context().close();
  });
});
