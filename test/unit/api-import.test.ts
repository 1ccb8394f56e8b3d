import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../engine/api/host';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/import');

describe('EngineHost.importModel', () => {
  let dir: string;
  let host: EngineHost;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-api-import-'));
    await mkdir(join(dir, 'root'));
    await mkdir(join(dir, 'shipped'));
    await copyFile(join(FIXTURES, 'srvgg-x4.pth'), join(dir, 'root/compact.pth'));
    host = await EngineHost.create({
      configDir: join(dir, 'config'),
      transport: 'websocket',
      version: 't',
      roots: [join(dir, 'root')],
      modelsDir: join(dir, 'shipped'),
    });
  });
  afterAll(async () => {
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a chosen file into the user models folder and lists it with the other models', async () => {
    const info = await host.importModel(join(dir, 'root/compact.pth'), { name: 'compact-x4' });
    expect(info).toMatchObject({ id: 'compact-x4', family: 'srvgg', scale: 4, source: 'user', params: 4920 });
    expect((await host.listModels()).map((m) => m.id)).toContain('compact-x4');
    expect((await readdir(join(dir, 'config/models'))).sort()).toEqual(['compact-x4.json', 'compact-x4.onnx']);
  });

  it('refuses a file outside what the user chose, and writes nothing', async () => {
    await expect(host.importModel(join(FIXTURES, 'rrdbnet-x4.pth'))).rejects.toThrow(/not allowed to read/);
    expect((await readdir(join(dir, 'config/models'))).filter((f) => f.startsWith('rrdbnet'))).toEqual([]);
  });
});
