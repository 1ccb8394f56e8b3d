import type { ConnectionOptions } from 'bullmq';
import { parseRedisUrl } from '../api/redis-url';

/**
 * How the queue front end reaches Redis: `redis://[user:password@]HOST:PORT[/DB]`. Commands
 * never give up on a dropped connection (BullMQ needs `maxRetriesPerRequest: null`), so workers
 * and producers ride out a Redis restart and carry on when it is back.
 */

export const UPSCALE_QUEUE = 'minisr-upscale';
export const TRAIN_QUEUE = 'minisr-train';

export function redisConnection(url: string): ConnectionOptions {
  return {
    ...parseRedisUrl(url, '--queue'),
    maxRetriesPerRequest: null,
    // Reconnect every 0.2 s .. 2 s for as long as it takes (a restarted Redis).
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}
