import { join } from 'node:path';
import { EngineHost } from '../../engine/api/host';
import type { EngineEvent } from '../../engine/api/types';

/**
 * An engine host as web mode builds it, over a test folder (`<dir>/config`, `<dir>/models`),
 * granting `roots`, on the CPU EP at one thread, collecting its events into `events`.
 */
export async function createCpuHost(dir: string, roots: string[], events: EngineEvent[]): Promise<EngineHost> {
  const host = await EngineHost.create({
    configDir: join(dir, 'config'),
    transport: 'websocket',
    version: 't',
    roots,
    modelsDir: join(dir, 'models'),
  });
  host.onEvent((e) => events.push(e));
  await host.setSettings({ ep: 'cpu', threads: 1 });
  return host;
}
