import { describe, expect, it } from 'vitest';
import { redisConnection } from '../../engine/queue/connection';
import { trainJobId } from '../../engine/queue/train-job';
import { upscaleJobId, type UpscaleJobData } from '../../engine/queue/upscale-job';

/** The queue front end's pure parts: the Redis URL and the job ids that make enqueueing idempotent. */

describe('redisConnection', () => {
  it('reads host, port, database and credentials, and never gives up on a dropped connection', () => {
    expect(redisConnection('redis://u:p%40ss@10.0.0.5:6380/3')).toMatchObject({
      host: '10.0.0.5',
      port: 6380,
      db: 3,
      username: 'u',
      password: 'p@ss',
      maxRetriesPerRequest: null,
    });
    const c = redisConnection('redis://127.0.0.1') as { port: number; db?: number; retryStrategy: (n: number) => number };
    expect([c.port, c.db, c.retryStrategy(1), c.retryStrategy(100)]).toEqual([6379, undefined, 200, 2000]);
  });

  it('refuses what is not a redis:// URL, naming the flag', () => {
    expect(() => redisConnection('127.0.0.1:6379')).toThrow(/--queue must be a/);
    expect(() => redisConnection('http://127.0.0.1:6379')).toThrow(/redis:\/\//);
    expect(() => redisConnection('redis://127.0.0.1:6379/x')).toThrow(/database must be a number/);
  });
});

describe('job ids', () => {
  const data: UpscaleJobData = {
    batch: 'b1',
    input: '/s/in/a.png',
    output: '/s/out/a_m_x2.png',
    model: { model: 'edsr-mini-x2' },
    modelId: 'edsr-mini-x2',
    scale: 2,
    format: 'same',
    tile: 'auto',
    keep16bit: false,
    keepMetadata: true,
    template: '{name}_{model}_x{scale}.{ext}',
    skipExisting: false,
  };

  it('the same image, model and options give the same id whatever the batch; any of them changed, another', () => {
    expect(upscaleJobId({ ...data, batch: 'b2' })).toBe(upscaleJobId(data));
    const variants: Partial<UpscaleJobData>[] = [
      { input: '/s/in/b.png' },
      { output: '/s/out2/a_m_x2.png' },
      { model: { model: 'edsr-mini', weights: '/s/w.safetensors' } },
      { scale: 4 },
      { format: 'webp' },
      { quality: 80 },
      { tile: 64 },
      { keep16bit: true },
      { keepMetadata: false },
    ];
    const ids = new Set([upscaleJobId(data), ...variants.map((v) => upscaleJobId({ ...data, ...v }))]);
    expect(ids.size).toBe(variants.length + 1);
  });

  it('one training job per run folder', () => {
    expect(trainJobId('/s/runs/a')).toBe(trainJobId('/s/runs/a/'));
    expect(trainJobId('/s/runs/a')).not.toBe(trainJobId('/s/runs/b'));
  });
});
