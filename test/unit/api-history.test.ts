import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, HistoryStore } from '../../engine/api/history';
import { EngineHost } from '../../engine/api/host';
import type { EngineEvent, JobState } from '../../engine/api/types';
import { writeRandomModel } from '../helpers/random-model';

const SAMPLES = join(import.meta.dirname, '../../resources/samples');

describe('HistoryStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-history-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const batch = (id: string, outputDir: string) => ({ id, inputs: [join(dir, 'in')], outputDir, modelId: 'm', scale: 2, files: 3 });

  it('persists across a new instance, newest first, and marks entries whose files are gone', async () => {
    const config = join(dir, 'persist');
    await writeFile(join(dir, 'kept.png'), 'x');
    await mkdir(join(dir, 'in'), { recursive: true });
    const a = await HistoryStore.open(config);
    await a.addImage({ path: join(dir, 'gone.png'), name: 'gone.png', action: 'upscaled', modelId: 'm', scale: 2 });
    await a.addImage({ path: join(dir, 'kept.png'), name: 'kept.png', action: 'saved' });
    await a.addBatch(batch('job-1', dir));
    await a.finishBatch('job-1', { state: 'finished', done: 2, failed: 1, skipped: 0 });

    const b = await HistoryStore.open(config);
    const h = await b.list();
    expect(h.images.map((i) => [i.name, i.missing])).toEqual([
      ['kept.png', undefined],
      ['gone.png', true],
    ]);
    expect(h.batches).toEqual([expect.objectContaining({ id: 'job-1', state: 'finished', files: 3, done: 2, failed: 1, skipped: 0 })]);
    expect(h.batches[0]!.missing).toBeUndefined();
    await b.addImage({ path: join(dir, 'gone.png'), name: 'gone.png', action: 'saved' });
    expect((await b.list()).images.map((i) => i.name)).toEqual(['gone.png', 'kept.png']); // moved up, not repeated
  });

  it(`keeps at most ${HISTORY_LIMIT} entries of each kind, dropping the oldest`, async () => {
    const s = await HistoryStore.open(join(dir, 'bound'));
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
      await s.addImage({ path: join(dir, `f${i}.png`), name: `f${i}.png`, action: 'saved' });
      await s.addBatch(batch(`job-${i}`, join(dir, `out${i}`)));
    }
    const h = await (await HistoryStore.open(join(dir, 'bound'))).list();
    expect(h.images).toHaveLength(HISTORY_LIMIT);
    expect(h.images[0]!.name).toBe(`f${HISTORY_LIMIT + 4}.png`);
    expect(h.images.at(-1)!.name).toBe('f5.png');
    expect(h.batches).toHaveLength(HISTORY_LIMIT);
  });

  it('starts empty, with the reason logged, from a corrupt or foreign file, and can write over it', async () => {
    for (const [content, reason] of [
      ['{"images": [', /not JSON/],
      ['{"images": [{"path": 3}], "batches": []}', /not a MiniSR history \(images\.0\.path/],
      ['{"tile": 128}', /not a MiniSR history/],
    ] as const) {
      const config = join(dir, 'corrupt');
      await mkdir(config, { recursive: true });
      await writeFile(join(config, 'history.json'), content);
      const warnings: string[] = [];
      const s = await HistoryStore.open(config, (m) => warnings.push(m));
      expect(await s.list()).toEqual({ images: [], batches: [] });
      expect(warnings).toEqual([expect.stringMatching(reason)]);
      await s.addImage({ path: join(dir, 'kept.png'), name: 'kept.png', action: 'saved' });
      expect((await (await HistoryStore.open(config)).list()).images).toHaveLength(1);
    }
  });

  it('clears, and writes atomically: whole JSON after many concurrent writes, no temporary files left', async () => {
    const config = join(dir, 'atomic');
    const s = await HistoryStore.open(config);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => s.addImage({ path: join(dir, `c${i}.png`), name: `c${i}.png`, action: 'saved' })),
    );
    const saved = JSON.parse(await readFile(join(config, 'history.json'), 'utf8'));
    expect(saved.images).toHaveLength(HISTORY_LIMIT);
    expect(saved.images[0].name).toBe('c29.png'); // the last write landed last
    expect(await readdir(config)).toEqual(['history.json']);
    await s.clear();
    expect(await (await HistoryStore.open(config)).list()).toEqual({ images: [], batches: [] });
  });
});

describe('EngineHost history', () => {
  let dir: string;
  const hosts: EngineHost[] = [];
  const host = async (transport: 'ipc' | 'websocket', roots: string[] = []) => {
    const h = await EngineHost.create({ configDir: join(dir, 'config'), transport, version: 't', roots, modelsDir: join(dir, 'models') });
    hosts.push(h);
    return h;
  };
  const ended = (h: EngineHost, id: string, state: JobState) =>
    new Promise<void>((ok) => {
      const off = h.onEvent((e: EngineEvent) => {
        if (e.type !== 'job' || e.job.id !== id || e.job.state !== state) return;
        off();
        ok();
      });
      // It may have ended already.
      void h.listJobs().then((jobs) => jobs.some((j) => j.id === id && j.state === state) && (off(), ok()));
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-host-history-'));
    await mkdir(join(dir, 'root/in'), { recursive: true });
    await mkdir(join(dir, 'root/out'));
    await mkdir(join(dir, 'models'));
    await writeRandomModel(join(dir, 'models'), 'mini-random-x2');
    await sharp(join(SAMPLES, 'coffee.png')).resize({ width: 32 }).toFile(join(dir, 'root/in/a.png'));
  });
  afterAll(async () => {
    for (const h of hosts) await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records upscaled images and batches with their counts; the desktop reopens them after a restart, web mode only inside its roots', async () => {
    const first = await host('websocket', [join(dir, 'root')]);
    const img = await first.openImage(join(dir, 'root/in/a.png'));
    const up = await first.startUpscale({ imageId: img.id, modelId: 'mini-random-x2', scale: 2 });
    await ended(first, up.id, 'done');
    const req = {
      inputs: [join(dir, 'root/in')],
      modelId: 'mini-random-x2',
      scale: 2,
      outputDir: join(dir, 'root/out'),
      recursive: false,
      skipExisting: false,
    };
    const job = await first.startBatch(req);
    expect((await first.getHistory()).batches[0]).toMatchObject({ id: job.id, state: 'started', files: 1 });
    await ended(first, job.id, 'done');
    await first.close();

    const desktop = await host('ipc'); // a restart with no roots: only the history grants
    await expect(desktop.openImage(join(dir, 'root/in/a.png'))).rejects.toThrow(/not allowed/);
    const h = await desktop.getHistory();
    expect(h.images).toEqual([
      expect.objectContaining({ path: join(dir, 'root/in/a.png'), name: 'a.png', action: 'upscaled', modelId: 'mini-random-x2', scale: 2 }),
    ]);
    expect(h.batches).toEqual([
      expect.objectContaining({
        id: job.id,
        inputs: req.inputs,
        outputDir: req.outputDir,
        state: 'finished',
        files: 1,
        done: 1,
        failed: 0,
      }),
    ]);
    expect((await desktop.openImage(join(dir, 'root/in/a.png'))).name).toBe('a.png');
    const again = await desktop.startBatch({ ...req, skipExisting: true });
    await ended(desktop, again.id, 'done');

    const web = await host('websocket', [join(dir, 'root/out')]);
    expect((await web.getHistory()).batches[0]).toMatchObject({ id: again.id, skipped: 1 });
    await expect(web.openImage(join(dir, 'root/in/a.png'))).rejects.toThrow(/not allowed/);

    expect(await web.clearHistory()).toEqual({ images: [], batches: [] });
    expect(await (await host('ipc')).getHistory()).toEqual({ images: [], batches: [] });
  });
});
