/**
 * `redis://[user:password@]HOST:PORT[/DB]`, the one form a queue URL takes: the settings schema
 * checks it with this and the queue's connection reads it with it, so both refuse the same URLs.
 */

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly db?: number;
  readonly username?: string;
  readonly password?: string;
}

/** `what` names the URL in the error (`--queue`, `the queue URL`). */
export function parseRedisUrl(url: string, what = 'the queue URL'): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`${what} must be a URL like redis://127.0.0.1:6379/0, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:') throw new RangeError(`${what} must be a redis:// URL, got ${JSON.stringify(url)}`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new RangeError(`${what}: the database must be a number, got ${JSON.stringify(db)}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}
