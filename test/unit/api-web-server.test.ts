import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EngineHost } from '../../engine/api/host';
import type { ServerMessage } from '../../engine/api/rpc';
import type { EngineEvent, ImageRef } from '../../engine/api/types';
import { frameText, startWebServer, type WebServer } from '../../scripts/web/server';
import { writeRandomModel } from '../helpers/random-model';

const SAMPLE = join(import.meta.dirname, '../../resources/samples/camera.png');

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** A connected client that collects messages; `call` resolves with the answer to its id. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    messages.push(JSON.parse(String(d)) as ServerMessage);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail)));
  const next = (pred: (m: ServerMessage) => boolean) =>
    new Promise<ServerMessage>((ok) => {
      const check = () => {
        const m = messages.find(pred);
        if (m) ok(m);
        else waiters.push(check);
      };
      check();
    });
  let id = 100;
  const call = async (method: string, params: unknown[]) => {
    const my = id++;
    ws.send(JSON.stringify({ id: my, method, params }));
    return next((m) => 'id' in m && m.id === my);
  };
  const event = (pred: (e: EngineEvent) => boolean) =>
    next((m) => 'event' in m && pred(m.event)).then((m) => (m as { event: EngineEvent }).event);
  return { ws, call, next, event, raw: (text: string) => ws.send(text) };
}

describe('web mode server', () => {
  let dir: string;
  let host: EngineHost;
  let server: WebServer;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-web-'));
    await mkdir(join(dir, 'renderer/assets'), { recursive: true });
    await mkdir(join(dir, 'root'));
    await mkdir(join(dir, 'models'));
    await writeFile(join(dir, 'renderer/index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
    await writeFile(join(dir, 'renderer/assets/app.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'secret');
    await copyFile(SAMPLE, join(dir, 'root/camera.png'));
    // Random-weight EDSRmini: fast and runnable; the output is not a real upscale.
    await writeRandomModel(join(dir, 'models'), 'edsr-mini-random-x2');
    host = await EngineHost.create({
      configDir: join(dir, 'config'),
      transport: 'websocket',
      version: 'test',
      roots: [join(dir, 'root')],
      modelsDir: join(dir, 'models'),
    });
    server = await startWebServer({ host, rendererDir: join(dir, 'renderer') });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await host?.close();
  });

  it('binds to 127.0.0.1 and prints a URL with a 256-bit token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('refuses every HTTP request without the right token (401)', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', '/api/images/x', '/api/upload']) {
      expect((await get(base + path)).status, path).toBe(401);
      expect((await get(`${base}${path}?token=wrong`)).status, path).toBe(401);
      expect((await get(base + path, { Authorization: 'Bearer x' + server.token.slice(1) })).status, path).toBe(401);
    }
  });

  it('refuses the WebSocket upgrade without the token (401) and from a foreign origin (403)', async () => {
    const refused = (url: string, opts?: WebSocket.ClientOptions) =>
      new Promise<string>((ok) => {
        const ws = new WebSocket(url, opts);
        ws.on('open', () => ok('opened'));
        ws.on('error', (e) => ok(e.message));
      });
    expect(await refused(`ws://127.0.0.1:${server.port}/api/ws`)).toMatch(/401/);
    expect(await refused(`ws://127.0.0.1:${server.port}/api/ws?token=nope`)).toMatch(/401/);
    expect(await refused(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`, { origin: 'http://evil.example' })).toMatch(/403/);
  });

  it('refuses a state-changing request from a foreign Origin (403) even with the token; its own page may post', async () => {
    const png = await readFile(SAMPLE);
    const post = (origin?: string) =>
      fetch(`${base}/api/upload?name=cam.png`, {
        method: 'POST',
        body: png,
        headers: { Authorization: `Bearer ${server.token}`, ...(origin ? { Origin: origin } : {}) },
      });
    const foreign = await post('http://evil.example');
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toMatch(/origin/);
    expect((await post(`http://127.0.0.1:${server.port}`)).status).toBe(200);
    expect((await post()).status).toBe(200);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    expect((await get(`${base}/?token=${server.token}`, { Host: 'evil.example' })).status).toBe(403);
  });

  it('serves the page with the token in a meta tag, a strict CSP and a session cookie that then authorises assets', async () => {
    const page = await get(`${base}/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain(`<meta name="minisr-token" content="${server.token}">`);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const asset = await get(`${base}/assets/app.js`, { Cookie: cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect((await get(`${base}/%2e%2e/secret.txt?token=${server.token}`)).status).toBe(404);
  });

  it('refuses an upload declared over the size limit before reading it', async () => {
    const status = await new Promise<number>((ok, fail) => {
      const req = request(
        `${base}/api/upload?name=big.png&token=${server.token}`,
        { method: 'POST', headers: { 'Content-Length': String(300 * 1024 * 1024) } },
        (res) => {
          res.resume();
          ok(res.statusCode!);
        },
      );
      req.on('error', fail);
      req.write(Buffer.alloc(1024));
    });
    expect(status).toBe(400);
  });

  it('refuses bad shapes and paths outside the roots over the WebSocket, with clear errors', async () => {
    const c = await connect(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
    c.raw('{not json');
    expect(await c.next((m) => 'error' in m && m.id === null)).toMatchObject({
      error: { code: 'bad-request', message: 'message is not valid JSON' },
    });
    c.raw(JSON.stringify({ id: 7, method: 'startUpscale', params: [{ imageId: 'a', modelId: 'm' }] }));
    expect(await c.next((m) => 'id' in m && m.id === 7)).toMatchObject({
      error: { code: 'bad-request', field: 'startUpscale.params.0.scale' },
    });
    expect(await c.call('openImage', [join(dir, 'secret.txt')])).toMatchObject({
      error: { code: 'forbidden', message: expect.stringContaining('not allowed to read') },
    });
    expect(await c.call('openImage', [join(dir, 'root/../secret.txt')])).toMatchObject({ error: { code: 'forbidden' } });
    expect(await c.call('browse', [dir])).toMatchObject({ error: { code: 'forbidden' } });
    expect(
      await c.call('startBatch', [
        {
          inputs: [join(dir, 'root')],
          modelId: 'edsr-mini-random-x2',
          scale: 2,
          outputDir: join(dir, 'out'),
          recursive: false,
          skipExisting: false,
        },
      ]),
    ).toMatchObject({
      error: { code: 'forbidden', message: expect.stringContaining('not allowed to write') },
    });
    expect(await c.call('saveImage', ['nope', join(dir, 'root/x.png')])).toMatchObject({ error: { code: 'not-found' } });
    // The compression stages travel the same way.
    expect(
      await c.call('startPrune', [
        { teacher: join(dir, 't.pth'), teacherPreset: 'edsr-mini', dataDir: join(dir, 'root'), steps: 1, lambda: 1e-3 },
      ]),
    ).toMatchObject({
      error: { code: 'forbidden', message: expect.stringContaining('not allowed to read') },
    });
    expect(await c.call('planCompression', [{ report: join(dir, 'root/importance.json') }])).toMatchObject({
      error: { code: 'bad-request', field: 'planCompression.params.0' },
    });
    c.ws.close();
  });

  it('uploads, serves regions (plain and bicubic-resampled), upscales through a job and downloads the result', async () => {
    const c = await connect(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
    const res = await fetch(`${base}/api/upload?name=cam.png&token=${server.token}`, { method: 'POST', body: await readFile(SAMPLE) });
    const ref = (await res.json()) as ImageRef;
    expect(ref).toMatchObject({ name: 'cam.png', width: 512, height: 512, format: 'png' });
    const bad = await fetch(`${base}/api/upload?name=x.png&token=${server.token}`, { method: 'POST', body: 'hello' });
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/x\.png/);

    const region = await get(`${base}/api/images/${ref.id}?left=100&top=50&width=200&height=100&token=${server.token}`);
    expect(region.headers['content-type']).toBe('image/webp');
    expect(await sharp(region.body).metadata()).toMatchObject({ width: 200, height: 100 });
    const up = await get(
      `${base}/api/images/${ref.id}?left=100&top=50&width=64&height=32&resample=bicubic&scale=2&format=png&maxSide=100&token=${server.token}`,
    );
    expect(await sharp(up.body).metadata()).toMatchObject({ format: 'png', width: 100, height: 50 });
    expect((await get(`${base}/api/images/${ref.id}?left=9999&token=${server.token}`)).status).toBe(400);
    expect((await get(`${base}/api/images/${ref.id}?path=/etc/passwd&token=${server.token}`)).status).toBe(400);

    const models = await c.call('listModels', []);
    expect(models).toMatchObject({ result: [{ id: 'edsr-mini-random-x2', params: 49603, compact: true, scale: 2 }] });
    const started = (await c.call('startUpscale', [{ imageId: ref.id, modelId: 'edsr-mini-random-x2', scale: 2 }])) as {
      result: { id: string };
    };
    const jobId = started.result.id;
    const done = await c.event((e) => e.type === 'upscale-done' && e.jobId === jobId);
    expect(await c.event((e) => e.type === 'progress' && e.jobId === jobId)).toMatchObject({ total: expect.any(Number) });
    const out = (done as Extract<EngineEvent, { type: 'upscale-done' }>).result.output;
    expect(out).toMatchObject({ width: 1024, height: 1024, name: 'cam_edsr-mini-random-x2_x2.png' });
    const dl = await get(`${base}/api/images/${out.id}/download?token=${server.token}`);
    expect(dl.headers['content-disposition']).toContain('cam_edsr-mini-random-x2_x2.png');
    expect(await sharp(dl.body).metadata()).toMatchObject({ width: 1024, height: 1024 });
    // Saving into the allowed root works; the saved file is a real PNG.
    const saved = (await c.call('saveImage', [out.id, join(dir, 'root/saved.png')])) as { result: string };
    expect(await sharp(saved.result).metadata()).toMatchObject({ width: 1024, format: 'png' });
    c.ws.close();
  });
});

describe('frameText', () => {
  const json = '{"id":1,"method":"listModels","params":["é"]}';
  it('decodes a message delivered as one buffer, as fragments or as an ArrayBuffer', () => {
    const bytes = Buffer.from(json, 'utf8');
    expect(frameText(bytes)).toBe(json);
    // a fragment boundary inside the two-byte é must not corrupt it
    const cut = bytes.indexOf(0xc3) + 1;
    expect(frameText([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(json);
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    expect(frameText(ab)).toBe(json);
  });
});
