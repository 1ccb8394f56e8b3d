import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../engine/api/host';
import { parseParams } from '../../engine/api/schema';
import { bullmqQueuePort } from '../../engine/queue/app-port';
import { startRedis, type TestRedis } from '../helpers/redis';
import { writeRandomModel } from '../helpers/random-model';

/**
 * The host's queue calls over the BullMQ port and a real redis-server (no workers: the jobs stay
 * waiting): the URL setting is checked, "Test connection" tells a live Redis from a dead port, and
 * a batch is planned as a local one (allow-listed paths, outputs named by the settings) and found
 * again by its id.
 */

describe('EngineHost and the job queue', () => {
  let dir: string;
  let redis: TestRedis;
  let host: EngineHost;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-host-queue-'));
    redis = await startRedis();
    await mkdir(join(dir, 'root/in'), { recursive: true });
    await mkdir(join(dir, 'models'));
    // Random-weight EDSRmini: nothing runs here, the model only has to resolve.
    await writeRandomModel(join(dir, 'models'), 'mini-random-x2');
    await writeRandomModel(join(dir, 'models'), 'mini-random-x3', 'edsr-mini', 1, 3);
    await sharp({ create: { width: 16, height: 12, channels: 3, background: '#808080' } })
      .png()
      .toFile(join(dir, 'root/in/a.png'));
    await writeFile(join(dir, 'root/in/bad.png'), 'not a png');
    host = await EngineHost.create({
      configDir: join(dir, 'config'),
      transport: 'websocket',
      version: 't',
      roots: [join(dir, 'root')],
      modelsDir: join(dir, 'models'),
      queue: bullmqQueuePort,
    });
  });
  afterAll(async () => {
    await host?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const req = () => ({
    inputs: [join(dir, 'root/in')],
    modelId: 'mini-random-x2',
    scale: 2,
    outputDir: join(dir, 'root/out'),
    recursive: false,
    skipExisting: false,
  });

  it('takes only redis:// URLs as the queue setting (or none)', () => {
    expect(() => parseParams('setSettings', [{ queueUrl: 'http://10.0.0.5:6379' }])).toThrow(/queueUrl.*redis:\/\//);
    expect(() => parseParams('setSettings', [{ queueUrl: 'redis://h:6379/x' }])).toThrow(/database must be a number/);
    expect(parseParams('setSettings', [{ queueUrl: '' }])).toEqual([{ queueUrl: '' }]);
    expect(() => parseParams('testQueue', ['10.0.0.5:6379'])).toThrow(/testQueue/);
  });

  it('tells a live Redis from a port where none listens', async () => {
    expect(await host.testQueue(redis.url)).toMatchObject({ reachable: true, detail: expect.stringMatching(/^Redis \d/) });
    const dead = await host.testQueue('redis://127.0.0.1:1');
    expect(dead.reachable).toBe(false);
    expect(dead.detail).toMatch(/ECONNREFUSED/);
  });

  it('refuses to send without a queue URL, and a host without a queue refuses at all', async () => {
    await expect(host.sendBatchToQueue(req())).rejects.toThrow(/no queue URL/);
    const bare = await EngineHost.create({
      configDir: join(dir, 'config-bare'),
      transport: 'websocket',
      version: 't',
      modelsDir: join(dir, 'models'),
    });
    await expect(bare.testQueue(redis.url)).rejects.toThrow(/no job queue/);
    await bare.close();
  });

  it('sends a batch planned as a local one and finds it again by its id', async () => {
    await host.setSettings({ queueUrl: redis.url, nameTemplate: '{name}-{model}.{ext}' });
    const sent = await host.sendBatchToQueue(req());
    expect(sent.settled).toBe(false);
    expect(sent.summary).toEqual({ done: 0, failed: 0, skipped: 0, pending: 2 });
    expect(sent.files.map((f) => [f.input, f.state])).toEqual([
      [join(dir, 'root/in/a.png'), 'waiting'],
      [join(dir, 'root/in/bad.png'), 'waiting'],
    ]);
    const again = await host.queueBatchStatus(sent.id);
    expect(again).toEqual(sent);
    // Sent twice: the same batch, no second set of jobs.
    expect((await host.sendBatchToQueue(req())).id).toBe(sent.id);
    await expect(host.queueBatchStatus('nope')).rejects.toThrow(/no batch "nope"/);
    // Outside the allowed folders: refused before anything is queued.
    await expect(host.sendBatchToQueue({ ...req(), outputDir: join(tmpdir(), 'elsewhere') })).rejects.toThrow();
  });

  it('queues x3 with a x3 model in one pass, and refuses x3 of a x2 model before anything is queued', async () => {
    await host.setSettings({ queueUrl: redis.url });
    const sent = await host.sendBatchToQueue({ ...req(), modelId: 'mini-random-x3', scale: 3, outputDir: join(dir, 'root/out3') });
    expect(sent.title).toMatch(/^2 images x3 with mini-random-x3/);
    expect(sent.summary.pending).toBe(2);
    const refused = host.sendBatchToQueue({ ...req(), scale: 3, outputDir: join(dir, 'root/out3b') });
    await expect(refused).rejects.toMatchObject({ field: 'scale' });
    await expect(refused).rejects.toThrow(/scale 3 is not offered by a x2 model/);
  });
});
