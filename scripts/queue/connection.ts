import type { ConnectionOptions } from 'bullmq';

/**
 * How the queue front end reaches Redis: `redis://[user:password@]HOST:PORT[/DB]`. Commands
 * never give up on a dropped connection (BullMQ needs `maxRetriesPerRequest: null`), so workers
 * and producers ride out a Redis restart and carry on when it is back.
 */

export const UPSCALE_QUEUE = 'minisr-upscale';
export const TRAIN_QUEUE = 'minisr-train';

export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`--queue must be a URL like redis://127.0.0.1:6379/0, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:') throw new RangeError(`--queue must be a redis:// URL, got ${JSON.stringify(url)}`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new RangeError(`--queue: the database must be a number, got ${JSON.stringify(db)}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    maxRetriesPerRequest: null,
    // Reconnect every 0.2 s .. 2 s for as long as it takes (a restarted Redis).
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}
