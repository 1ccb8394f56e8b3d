import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSafetensors } from '../../engine/io/checkpoint';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { chromiumAvailable, SAMPLES, SCREENSHOTS, startRig, type Rig } from './harness';

/**
 * The compression wizard's stages 1 -> 2 -> 3 in a real browser against web mode and the real
 * engine. The teacher is a *random-weight* EDSRmini checkpoint (fast; its report says which
 * weights an L1 step zeroes, nothing about a real model), the data three 64-pixel crops.
 */

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!chromiumAvailable())('compression wizard in Chromium (e2e)', () => {
  let rig: Rig;
  let data: string;
  let teacher: string;

  beforeAll(async () => {
    rig = await startRig();
    data = join(rig.root, 'train');
    await mkdir(data);
    for (const n of ['camera.png', 'coffee.png', 'chelsea.png'])
      await sharp(join(SAMPLES, n)).resize({ width: 64, height: 64, fit: 'cover' }).toFile(join(data, n));
    teacher = join(rig.root, 'teacher.safetensors');
    await saveSafetensors(teacher, randomWeights(presetConfig('edsr-mini'), 7, 0.05));
    await rig.host.setSettings({ ep: 'cpu' });
  });
  afterAll(async () => rig?.close());

  /** The wizard's stage 1 filled in for the random-weight teacher, all but the data folder. */
  async function fillPruneStage(page: Page, steps: number) {
    await page.getByRole('tab', { name: 'Wizard' }).click();
    const prune = page.getByRole('region', { name: 'Stage 1: Prune' });
    await prune.getByLabel('Teacher to prune').selectOption('__import__');
    await prune.getByLabel('Checkpoint to prune').fill(teacher);
    await prune.getByLabel('Architecture of the checkpoint').selectOption('edsr-mini');
    await prune.getByLabel('Prune steps').fill(String(steps));
    await prune.getByLabel('Lambda (L1 weight)').fill('0.05');
    await prune.getByLabel('Prune batch').fill('2');
    await prune.getByLabel('Patch size for pruning (LR pixels)').fill('16');
    await prune.getByLabel('SGD rate for pruning').fill('0.05');
    return prune;
  }

  it('prunes a teacher, shows the report, plans a student within budget and distils into it', async () => {
    const t0 = performance.now();
    const page = await rig.newPage();
    const prune = await fillPruneStage(page, 8);
    expect(await prune.getByTestId('prune-needs').innerText()).toBe('Needs a training images folder.');
    await prune.getByRole('textbox', { name: 'Prune data folder' }).fill(data);
    await prune.getByRole('button', { name: 'Run pruning' }).click();

    // Stage 1's report, straight from importance.json.
    const report = page.getByTestId('prune-report');
    await report.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('prune-state').innerText()).toMatch(/^done$/i);
    expect(await prune.getByTestId('prune-stats').innerText()).toMatch(/^Step 8 \/ 8/);
    const sparsity = Number((await report.getByTestId('prune-sparsity').innerText()).replace('%', ''));
    expect(sparsity).toBeGreaterThan(0);
    const alive = /^(\d+) of 16$/.exec(await report.getByTestId('prune-channels').innerText());
    expect(alive).not.toBeNull();
    const bounds = /^N_c (\d+), N_b (\d+)$/.exec(await report.getByTestId('prune-bounds').innerText())!;
    expect(Number(bounds[1])).toBe(Number(alive![1]));

    // Stage 2: the engine plans from the report; fit to 30% of the teacher's parameters.
    const compress = page.getByRole('region', { name: 'Stage 2: Compress' });
    await expect.poll(() => compress.getByTestId('plan-params').innerText(), { timeout: 10_000 }).toMatch(/^[\d,]+$/);
    await compress.getByRole('slider', { name: 'Target budget percent' }).fill('30');
    await compress.getByRole('button', { name: 'Fit to budget' }).click();
    await expect.poll(() => compress.getByTestId('plan-share').innerText(), { timeout: 10_000 }).toMatch(/✓ within budget$/);
    const share = Number(/^([\d.]+)%/.exec(await compress.getByTestId('plan-share').innerText())![1]);
    expect(share).toBeLessThanOrEqual(30);
    expect(share).toBeGreaterThan(20); // the search fills the budget (within the 2% slack and the size grid)
    await compress.getByRole('button', { name: 'Use as student' }).click();
    await compress.getByTestId('plan-handed').waitFor();
    await shot(page, 'wizard-compress');

    // Stage 3 distils into the planned config (a few steps: the model it produces is listed).
    const distil = page.getByRole('region', { name: 'Stage 3: Distil' });
    // The pruned checkpoint is the teacher here too.
    expect(await distil.getByLabel('Teacher file path').inputValue()).toBe(teacher);
    expect(await distil.getByLabel('Teacher architecture').inputValue()).toBe('edsr-mini');
    const student = distil.getByLabel('Student preset');
    expect(await student.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]!.textContent)).toMatch(
      /^Planned in stage 2: EDSR \d+ ch × \d+ blocks/,
    );
    await distil.getByLabel('Steps', { exact: true }).fill('3');
    await distil.getByLabel('Batch', { exact: true }).fill('1');
    await distil.getByLabel('Patch (LR pixels)').fill('16');
    await distil.getByRole('textbox', { name: 'Training data folder' }).fill(data);
    // The student starts from the teacher, sliced as the stage-1 report ranks it.
    await distil.getByLabel('Initialise student from').selectOption('inherit');
    expect(await distil.getByTestId('inherit-ranking').innerText()).toMatch(/^Channels and blocks ranked by the stage-1 report \(prune-/);
    await distil.getByRole('button', { name: 'Start distillation' }).click();
    const result = page.getByTestId('distill-result');
    await result.waitFor({ timeout: 60_000 });
    const text = await result.innerText();
    const params = Number(/Parameters\s*([\d,]+)/i.exec(text)![1]!.replace(/,/g, ''));
    const planned = Number((await compress.getByTestId('plan-params').innerText()).replace(/,/g, ''));
    expect(params).toBe(planned);
    expect(await result.innerText()).not.toMatch(/of teacher/i); // a checkpoint teacher is not a listed model
    expect((await rig.host.listJobs()).find((j) => j.kind === 'distill')?.title).toMatch(/\(inherited\)/);
    console.log(`prune 8 steps -> plan -> distil 3 steps in the browser: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await page.context().close();
  });

  it('pauses and resumes a prune job from the wizard like a distillation, then cancels it', async () => {
    const page = await rig.newPage();
    const prune = await fillPruneStage(page, 100_000);
    await prune.getByRole('textbox', { name: 'Prune data folder' }).fill(data);
    await prune.getByRole('button', { name: 'Run pruning' }).click();
    const stats = prune.getByTestId('prune-stats');
    const step = async () => Number(/Step ([\d,]+)/.exec(await stats.innerText())?.[1]?.replace(/,/g, '') ?? 0);
    await stats.waitFor({ timeout: 60_000 });
    await expect.poll(step, { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(3);

    await prune.getByRole('button', { name: 'Pause pruning' }).click();
    await expect.poll(() => page.getByTestId('prune-state').innerText(), { timeout: 10_000 }).toMatch(/^paused$/i);
    await page.waitForTimeout(500); // a step in flight may still land
    const held = await step();
    await page.waitForTimeout(1500);
    expect(await step()).toBe(held);
    await prune.getByRole('button', { name: 'Resume pruning' }).click();
    await expect.poll(() => page.getByTestId('prune-state').innerText(), { timeout: 10_000 }).toMatch(/^running$/i);
    await expect.poll(step, { timeout: 30_000, interval: 200 }).toBeGreaterThan(held);
    await prune.getByRole('button', { name: 'Cancel pruning' }).click();
    await expect.poll(() => page.getByTestId('prune-state').innerText(), { timeout: 30_000 }).toMatch(/^cancelled$/i);
    expect((await rig.host.listJobs()).find((j) => j.kind === 'prune' && j.state !== 'done')?.state).toBe('cancelled');
    await page.context().close();
  });
});
