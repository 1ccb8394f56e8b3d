import type { QueuePort } from '../api/queue-port';

/** The app's queue port, with BullMQ and ioredis loaded on its first use only (most runs never send a batch to a queue). */
export function lazyQueuePort(): QueuePort {
  const load = async () => (await import('./app-port')).bullmqQueuePort;
  return {
    check: async (url) => (await load()).check(url),
    send: async (url, batch) => (await load()).send(url, batch),
    status: async (url, id) => (await load()).status(url, id),
  };
}
