import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineHost } from '../../engine/api/host';
import { createCpuHost } from '../helpers/cpu-host';
import type { EngineEvent, JobState, UpscaleResult } from '../../engine/api/types';
import { writeRandomModel } from '../helpers/random-model';

/**
 * What the compare view's "native x4 / 2 × x2" labels rest on: the upscale API runs a native x4
 * model in one pass and a x2 model in two at scale 4, and says so; x3 runs with a x3 model only,
 * and a scale the model cannot reach is refused before any job starts. The models are
 * *random-weight* EDSRmini x2, x3 and x4; their pictures mean nothing.
 */

describe('EngineHost at x3 and x4: native models and a x2 model twice', () => {
  let dir: string;
  let host: EngineHost;
  const events: EngineEvent[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-native-'));
    await mkdir(join(dir, 'models'));
    await mkdir(join(dir, 'root'));
    await writeRandomModel(join(dir, 'models'), 'edsr-mini-x2', 'edsr-mini', 1);
    await writeRandomModel(join(dir, 'models'), 'edsr-mini-x3', 'edsr-mini', 3, 3);
    await writeRandomModel(join(dir, 'models'), 'edsr-mini-x4', 'edsr-mini', 2, 4);
    await sharp({ create: { width: 20, height: 14, channels: 3, background: { r: 90, g: 140, b: 40 } } })
      .png()
      .toFile(join(dir, 'root/in.png'));
    host = await createCpuHost(dir, [join(dir, 'root')], events);
  });
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const finished = (id: string) =>
    new Promise<{ state: JobState; error?: string; result?: UpscaleResult }>((ok) => {
      const check = () => {
        const job = events.find((e) => e.type === 'job' && e.job.id === id && ['done', 'failed'].includes(e.job.state));
        if (job?.type !== 'job') return;
        off();
        const done = events.find((e) => e.type === 'upscale-done' && e.jobId === id);
        ok({ state: job.job.state, error: job.job.error, result: done?.type === 'upscale-done' ? done.result : undefined });
      };
      const off = host.onEvent(check);
      check();
    });

  it('lists the x4 model at scale 4 and reports one pass for it, two for the x2 model, same output size', async () => {
    const models = await host.listModels();
    expect(models.map((m) => [m.id, m.scale])).toEqual([
      ['edsr-mini-x2', 2],
      ['edsr-mini-x3', 3],
      ['edsr-mini-x4', 4],
    ]);
    const img = await host.openImage(join(dir, 'root/in.png'));
    const native = await finished((await host.startUpscale({ imageId: img.id, modelId: 'edsr-mini-x4', scale: 4 })).id);
    const twice = await finished((await host.startUpscale({ imageId: img.id, modelId: 'edsr-mini-x2', scale: 4 })).id);
    expect(native.result).toMatchObject({ modelId: 'edsr-mini-x4', scale: 4, passes: 1, output: { width: 80, height: 56 } });
    expect(twice.result).toMatchObject({ modelId: 'edsr-mini-x2', scale: 4, passes: 2, output: { width: 80, height: 56 } });
    // An x4 model cannot make x2: refused before a job starts, saying which scales it offers.
    const refused = host.startUpscale({ imageId: img.id, modelId: 'edsr-mini-x4', scale: 2 });
    await expect(refused).rejects.toMatchObject({ field: 'scale' });
    await expect(refused).rejects.toThrow(/scale 2 is not offered by a x4 model \(use 4, 16, 64\)/);
  });

  it('runs x3 with the x3 model in one pass, as one image and as a batch; refuses x3 of the x2 model and x2 of the x3 one', async () => {
    const img = await host.openImage(join(dir, 'root/in.png'));
    const native = await finished((await host.startUpscale({ imageId: img.id, modelId: 'edsr-mini-x3', scale: 3 })).id);
    expect(native.result).toMatchObject({ modelId: 'edsr-mini-x3', scale: 3, passes: 1, output: { width: 60, height: 42 } });

    const batch = { inputs: [join(dir, 'root/in.png')], outputDir: join(dir, 'root/out3'), recursive: false, skipExisting: false };
    const job = await host.startBatch({ ...batch, modelId: 'edsr-mini-x3', scale: 3 });
    expect((await finished(job.id)).state).toBe('done');
    expect(await sharp(join(dir, 'root/out3/in_edsr-mini-x3_x3.png')).metadata()).toMatchObject({ width: 60, height: 42 });

    // A x2 model cannot make x3 in passes; every entry point refuses before any work, naming why.
    for (const call of [
      host.startUpscale({ imageId: img.id, modelId: 'edsr-mini-x2', scale: 3 }),
      host.startBatch({ ...batch, modelId: 'edsr-mini-x2', scale: 3 }),
    ]) {
      await expect(call).rejects.toMatchObject({ field: 'scale' });
      await expect(call).rejects.toThrow(/scale 3 is not offered by a x2 model \(use 2, 4, 8\); edsr-mini-x2 is a x2 model/);
    }
    await expect(host.startUpscale({ imageId: img.id, modelId: 'edsr-mini-x3', scale: 2 })).rejects.toThrow(
      /scale 2 is not offered by a x3 model \(use 3, 9, 27\)/,
    );
  });
});
