import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import type { MinisrBridge } from '../../electron/channels';
import { EngineHost } from '../../engine/api/host';
import type { EngineEvent } from '../../engine/api/types';
import { ApiError, regionSearch } from '../../renderer/api/client';
import { createIpcClient } from '../../renderer/api/ipc-client';
import { createWsClient } from '../../renderer/api/ws-client';
import { startWebServer, type WebServer } from '../../scripts/web/server';

const SAMPLE = join(import.meta.dirname, '../../resources/samples/camera.png');

describe('renderer API clients', () => {
  it('region query strings carry only the fields asked for, rounded', () => {
    expect(
      String(
        regionSearch({ imageId: 'x', left: 10.4, width: 99.6, maxSide: 512, resample: { scale: 2, kernel: 'bicubic' }, format: 'png' }),
      ),
    ).toBe('left=10&width=100&maxSide=512&resample=bicubic&scale=2&format=png');
  });

  describe('WebSocket client against the web-mode server', () => {
    let dir: string;
    let host: EngineHost;
    let server: WebServer;
    beforeAll(async () => {
      // Node 20 has no global WebSocket; the browser's is what the client expects.
      (globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket;
      dir = await mkdtemp(join(tmpdir(), 'minisr-client-'));
      await mkdir(join(dir, 'renderer'));
      await writeFile(join(dir, 'renderer/index.html'), '<html><head></head></html>');
      host = await EngineHost.create({
        configDir: join(dir, 'config'),
        transport: 'websocket',
        version: 'c',
        modelsDir: join(dir, 'models'),
      });
      server = await startWebServer({ host, rendererDir: join(dir, 'renderer') });
    });
    afterAll(async () => {
      await server?.close();
      await host?.close();
    });

    it('calls the engine, turns refusals into ApiError with code and field, uploads, and builds tokened image URLs', async () => {
      const client = createWsClient({ token: server.token, origin: `http://127.0.0.1:${server.port}` });
      expect(client.transport).toBe('websocket');
      expect(client.dialogs).toBeNull();
      expect((await client.systemInfo()).transport).toBe('websocket');
      // 5 is no scale: the schema refuses it.
      const err = await client.startUpscale({ imageId: 'x', modelId: 'y', scale: 5 as 2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: 'bad-request', field: 'startUpscale.params.0.scale' });
      // A distillation's scale travels too (2, 3 or 4: a student is not made at x8).
      const distill = { teacher: 't', student: 'edsr-mini', steps: 1, batch: 1, patch: 8, lr: 1e-4, dataDir: dir };
      expect(await client.startDistill({ ...distill, scale: 8 as 4 }).catch((e: unknown) => e)).toMatchObject({
        code: 'bad-request',
        field: 'startDistill.params.0.scale',
      });
      expect(await client.openImage('/etc/hostname').catch((e: ApiError) => e.code)).toBe('forbidden');
      const ref = await client.uploadImage(new Blob([await readFile(SAMPLE)]), 'cam.png');
      expect(ref).toMatchObject({ name: 'cam.png', width: 512 });
      const url = client.imageUrl({ imageId: ref.id, width: 100, height: 100, format: 'png' });
      expect(url).toContain(`token=${server.token}`);
      expect(await sharp(Buffer.from(await (await fetch(url)).arrayBuffer())).metadata()).toMatchObject({ width: 100, height: 100 });
      const dl = await fetch(client.downloadUrl(ref.id, 'webp'));
      expect(dl.headers.get('content-disposition')).toContain('cam.webp');
      expect(await client.uploadImage(new Blob(['text']), 'x.png').catch((e: ApiError) => e.message)).toMatch(/x\.png/);
      (client as unknown as { close(): void }).close();
    });

    it('delivers events to subscribers until they unsubscribe', async () => {
      const client = createWsClient({ token: server.token, origin: `http://127.0.0.1:${server.port}` });
      const got: EngineEvent[] = [];
      const off = client.onEvent((e) => got.push(e));
      await client.listJobs(); // connected
      const job: EngineEvent = { type: 'job', job: { id: 'j', kind: 'upscale', state: 'running', title: 't' } };
      host.jobs.emit('event', job);
      await expect.poll(() => got.length).toBe(1);
      off();
      host.jobs.emit('event', job);
      await client.listJobs(); // the event, had it been delivered, arrives before this answer
      expect(got).toEqual([job]);
      (client as unknown as { close(): void }).close();
    });

    it('a call waits for a server that is not listening yet, and fails with a clear message once the wait is over', async () => {
      const probe = createServer();
      await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((ok) => probe.close(() => ok()));
      const token = 't'.repeat(32);
      await expect(createWsClient({ token, origin: `http://127.0.0.1:${port}`, waitMs: 300 }).listJobs()).rejects.toThrow(
        /cannot reach the MiniSR server/,
      );
      const client = createWsClient({ token, origin: `http://127.0.0.1:${port}` });
      const jobs = client.listJobs(); // before the server listens
      await new Promise((r) => setTimeout(r, 700));
      const late = await startWebServer({ host, rendererDir: join(dir, 'renderer'), port, token });
      try {
        expect(await jobs).toEqual(await host.listJobs());
      } finally {
        (client as unknown as { close(): void }).close();
        await late.close();
      }
    });
  });

  it('IPC client unwraps envelopes into results and ApiErrors; uploads travel as base64', async () => {
    const calls: [string, unknown[]][] = [];
    const bridge = new Proxy({} as MinisrBridge, {
      get: (_t, name: string) => {
        if (name === 'onEvent' || name === 'onMenu') return () => () => {};
        return async (...args: unknown[]) => {
          calls.push([name, args]);
          if (name === 'cancelJob') return { ok: false, error: { code: 'not-found', message: 'no job with id "j"' } };
          return { ok: true, result: name === 'importImage' ? { id: 'i' } : 'r' };
        };
      },
    });
    const client = createIpcClient(bridge);
    expect(client.transport).toBe('ipc');
    expect(await client.listJobs()).toBe('r');
    const e = await client.cancelJob('j').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ code: 'not-found', message: 'no job with id "j"' });
    expect(await client.uploadImage(new Blob([new Uint8Array([1, 2, 3])]), 'a.png')).toEqual({ id: 'i' });
    expect(calls.at(-1)).toEqual(['importImage', ['a.png', 'AQID']]);
    expect(await client.dialogs!.openFolder()).toBe('r');
    expect(client.imageUrl({ imageId: 'a b', maxSide: 64 })).toBe('minisr-image://image/a%20b?maxSide=64');
  });
});
