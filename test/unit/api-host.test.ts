import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../engine/api/host';
import type { EngineEvent, JobInfo, JobState } from '../../engine/api/types';
import { writeRandomModel } from '../helpers/random-model';

const SAMPLES = join(import.meta.dirname, '../../resources/samples');

describe('EngineHost', () => {
  let dir: string;
  let host: EngineHost;
  const events: EngineEvent[] = [];
  const until = (id: string, state: JobState) =>
    new Promise<void>((ok) => {
      const check = () => events.some((e) => e.type === 'job' && e.job.id === id && e.job.state === state) && (off(), ok());
      const off = host.onEvent(check);
      check();
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-host-'));
    await mkdir(join(dir, 'root/in/sub'), { recursive: true });
    await mkdir(join(dir, 'models'));
    // Random-weight EDSRmini: runs like the real one, its pictures mean nothing.
    await writeRandomModel(join(dir, 'models'), 'mini-random-x2');
    await copyFile(join(SAMPLES, 'camera.png'), join(dir, 'root/in/a.png'));
    await sharp(join(SAMPLES, 'coffee.png')).resize({ width: 64 }).toFile(join(dir, 'root/in/b.png'));
    await sharp(join(SAMPLES, 'chelsea.png')).resize({ width: 64 }).jpeg().toFile(join(dir, 'root/in/sub/c.jpg'));
    await writeFile(join(dir, 'root/in/notes.txt'), 'not an image');
    host = await EngineHost.create({
      configDir: join(dir, 'config'),
      transport: 'websocket',
      version: 't',
      roots: [join(dir, 'root')],
      modelsDir: join(dir, 'models'),
    });
    host.onEvent((e) => events.push(e));
  });
  afterAll(async () => host?.close());

  it('persists settings as JSON and keeps valid fields of a damaged file', async () => {
    expect((await host.setSettings({ tile: 128, theme: 'dark' })).tile).toBe(128);
    const saved = JSON.parse(await readFile(join(dir, 'config/settings.json'), 'utf8'));
    expect(saved).toMatchObject({ tile: 128, theme: 'dark' });
    await writeFile(join(dir, 'config/settings.json'), JSON.stringify({ ...saved, tile: 'huge', quality: 77 }));
    const again = await EngineHost.create({
      configDir: join(dir, 'config'),
      transport: 'websocket',
      version: 't',
      modelsDir: join(dir, 'models'),
    });
    expect(await again.getSettings()).toMatchObject({ tile: 0, quality: 77, theme: 'dark' });
    await again.close();
    await host.setSettings({ tile: 0 });
  });

  it('pauses an upscale between tiles and resumes it to the end; records the measured CPU speed', async () => {
    await host.setSettings({ tile: 64, ep: 'cpu' });
    expect((await host.listModels())[0]!.cpuMegapixelsPerSec).toBeUndefined();
    const img = await host.openImage(join(dir, 'root/in/a.png'));
    const job = await host.startUpscale({ imageId: img.id, modelId: 'mini-random-x2', scale: 2 });
    const tiles = () => events.filter((e) => e.type === 'progress' && e.jobId === job.id).length;
    await new Promise<void>((ok) => {
      const off = host.onEvent(() => tiles() >= 2 && (off(), ok()));
    });
    await host.pauseJob(job.id);
    await new Promise((r) => setTimeout(r, 300)); // the tile in flight may still report
    const held = tiles();
    await new Promise((r) => setTimeout(r, 700));
    expect(tiles()).toBe(held);
    await host.resumeJob(job.id);
    await until(job.id, 'done');
    const done = events.find((e) => e.type === 'upscale-done' && e.jobId === job.id) as Extract<EngineEvent, { type: 'upscale-done' }>;
    expect(done.result.output).toMatchObject({ width: 1024, height: 1024 });
    expect(tiles()).toBeGreaterThan(held);
    expect(done.result.ep).toBe('cpu');
    const speed = (await host.listModels())[0]!.cpuMegapixelsPerSec!;
    expect(speed).toBeGreaterThan(0);
    // Model time excludes decode and encode, so it is at least the wall-clock rate.
    expect(speed).toBeGreaterThanOrEqual((512 * 512) / 1e6 / (done.result.millis / 1000));
    expect(JSON.parse(await readFile(join(dir, 'config/speeds.json'), 'utf8'))['mini-random-x2']).toHaveLength(1);
    await host.setSettings({ tile: 0 });
  });

  it('batches a folder: readable images only, subfolders on request, outputs mirrored under the output folder', async () => {
    const job: JobInfo = await host.startBatch({
      inputs: [join(dir, 'root/in')],
      modelId: 'mini-random-x2',
      scale: 2,
      outputDir: join(dir, 'root/out'),
      recursive: true,
      glob: '*.{png,jpg}',
      skipExisting: false,
    });
    await until(job.id, 'done');
    const files = events
      .filter((e) => e.type === 'batch-file' && e.jobId === job.id && e.file.state === 'done')
      .map((e) => (e as { file: { output: string } }).file.output);
    expect(files.sort()).toEqual([
      join(dir, 'root/out/a_mini-random-x2_x2.png'),
      join(dir, 'root/out/b_mini-random-x2_x2.png'),
      join(dir, 'root/out/sub/c_mini-random-x2_x2.jpg'),
    ]);
    expect(events.find((e) => e.type === 'batch-done' && e.jobId === job.id)).toMatchObject({
      summary: { done: 3, failed: 0, skipped: 0 },
    });
    // Again with skipExisting: nothing to do.
    const again = await host.startBatch({
      inputs: [join(dir, 'root/in')],
      modelId: 'mini-random-x2',
      scale: 2,
      outputDir: join(dir, 'root/out'),
      recursive: false,
      skipExisting: true,
    });
    await until(again.id, 'done');
    expect(events.find((e) => e.type === 'batch-done' && e.jobId === again.id)).toMatchObject({ summary: { done: 0, skipped: 2 } });
  });

  it('refuses distillation requests it cannot honour, naming what is wrong', async () => {
    const base = {
      teacher: 'mini-random-x2',
      student: 'edsr-mini',
      steps: 10,
      batch: 2,
      patch: 24,
      lr: 1e-4,
      dataDir: join(dir, 'root/in'),
    };
    await expect(host.startDistill({ ...base, student: 'edsr-giant' })).rejects.toThrow(/unknown preset "edsr-giant"; known: .*edsr-mini/);
    await expect(host.startDistill({ ...base, dataDir: dir })).rejects.toThrow(/not allowed to read/);
    await expect(host.startDistill({ ...base, teacher: '/etc/teacher.pth' })).rejects.toThrow(/not allowed to read/);
    await writeFile(join(dir, 'root/teacher.pth'), 'x');
    await expect(host.startDistill({ ...base, teacher: join(dir, 'root/teacher.pth') })).rejects.toThrow(/needs its architecture preset/);
    await expect(host.startUpscale({ imageId: 'nope', modelId: 'mini-random-x2', scale: 2 })).rejects.toThrow(/no image with id/);
    const img = await host.openImage(join(dir, 'root/in/b.png'));
    await expect(host.startUpscale({ imageId: img.id, modelId: 'nope', scale: 2 })).rejects.toThrow(
      /unknown model "nope"; available: mini-random-x2/,
    );
  });

  it('trains on the provider setting, and fails naming it when that provider is absent', async () => {
    // A provider this platform cannot have: training must stop with its reason, never quietly use the CPU.
    const absent = process.platform === 'win32' ? 'coreml' : 'dml';
    await host.setSettings({ ep: absent });
    try {
      const job = await host.startDistill({
        teacher: 'mini-random-x2',
        student: 'edsr-mini',
        steps: 2,
        batch: 1,
        patch: 16,
        lr: 1e-4,
        dataDir: join(dir, 'root/in'),
      });
      await until(job.id, 'failed');
      const failed = events.find((e) => e.type === 'job' && e.job.id === job.id && e.job.state === 'failed') as Extract<
        EngineEvent,
        { type: 'job' }
      >;
      expect(failed.job.error).toMatch(new RegExp(`execution provider ${absent} failed`));
    } finally {
      await host.setSettings({ ep: 'auto' });
    }
  });

  it('browses only inside the roots', async () => {
    expect(await host.browse()).toEqual({
      path: null,
      parent: null,
      entries: [{ name: join(dir, 'root'), path: join(dir, 'root'), kind: 'dir' }],
    });
    const listing = await host.browse(join(dir, 'root/in'));
    expect(listing.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['dir:sub', 'image:a.png', 'image:b.png']);
    expect(listing.parent).toBe(join(dir, 'root'));
    expect((await host.browse(join(dir, 'root'))).parent).toBeNull();
    await expect(host.browse(dir)).rejects.toThrow(/not allowed/);
  });
});
