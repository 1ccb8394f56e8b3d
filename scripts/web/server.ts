import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { dispatch } from '../../engine/api/dispatch';
import type { EngineHost } from '../../engine/api/host';
import type { RpcResponse } from '../../engine/api/rpc';
import { MAX_UPLOAD_BYTES, parseRegionQuery, parseRequest, toRpcError, ValidationError } from '../../engine/api/schema';
import { HTTP_STATUS, rendererCsp, rendererFile, staticMime } from '../../engine/api/serving';
import { COOKIE, hostAllowed, newToken, originAllowed, requestToken, tokenMatches } from './auth';

/**
 * Web mode: the renderer and the engine API over loopback HTTP and one WebSocket. Bound to
 * 127.0.0.1 only; every request and the WebSocket upgrade must carry the token (query, bearer
 * header, or the cookie set when the page is first opened with `?token=`).
 */

export interface WebServerOptions {
  readonly host: EngineHost;
  readonly rendererDir: string;
  /** 0 = any free port. */
  readonly port?: number;
  readonly token?: string;
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

export function contentSecurityPolicy(port: number): string {
  return rendererCsp({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] });
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, e: unknown): void {
  const error = toRpcError(e);
  send(res, HTTP_STATUS[error.code], JSON.stringify({ error }), 'application/json');
}

/** A WebSocket message as UTF-8 text, whatever binaryType gave it: String() would join fragments with commas. */
export function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new ValidationError('body', `upload of ${declared} bytes is over the ${limit}-byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new ValidationError('body', `upload is over the ${limit}-byte limit`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  const root = resolve(opts.rendererDir);
  const { host } = opts;
  let port = 0;

  const serveStatic = async (res: ServerResponse, pathname: string) => {
    const file = rendererFile(root, pathname);
    if (!file) return send(res, 404, 'not found');
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile()) {
      if (!existsSync(join(root, 'index.html')))
        return send(
          res,
          503,
          `the renderer is not built (${relative(process.cwd(), root) || root}/index.html missing): run npm run build:renderer`,
        );
      return send(res, 404, 'not found');
    }
    if (file.endsWith('index.html')) {
      // The page learns its token from a meta tag, so the address bar can drop it.
      const html = (await readFile(file, 'utf8')).replace('<head>', `<head>\n    <meta name="minisr-token" content="${token}">`);
      return send(res, 200, html, staticMime(file));
    }
    res.writeHead(200, { 'Content-Type': staticMime(file), 'Content-Length': s.size });
    createReadStream(file).pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (!hostAllowed(req.headers.host, port)) return send(res, 403, 'forbidden host');
    if (req.method !== 'GET' && req.method !== 'HEAD' && !originAllowed(req.headers.origin, port))
      return send(res, 403, 'forbidden origin: only the MiniSR page may change state');
    if (!tokenMatches(requestToken(req, url), token))
      return send(res, 401, 'unauthorized: open the URL printed by `minisr serve` (it carries ?token=...)');
    // Remember the token for the page's own asset and image requests.
    res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    const parts = url.pathname.split('/');
    try {
      if (url.pathname === '/api/upload') {
        if (req.method !== 'POST') return send(res, 405, 'POST only');
        const name = url.searchParams.get('name') ?? 'upload';
        const ref = await host.uploadImage(name, await readBody(req, MAX_UPLOAD_BYTES));
        return send(res, 200, JSON.stringify(ref), 'application/json');
      }
      if (parts[1] === 'api' && parts[2] === 'images' && parts[3]) {
        if (req.method !== 'GET') return send(res, 405, 'GET only');
        const id = decodeURIComponent(parts[3]);
        const search = new URLSearchParams(url.searchParams);
        search.delete('token');
        if (parts[4] === 'download') {
          const entry = host.image(id);
          const format = search.get('format');
          if (format !== null && !['png', 'jpeg', 'webp', 'avif', 'tiff'].includes(format))
            throw new ValidationError('query.format', 'must be png, jpeg, webp, avif or tiff');
          // The same format goes out byte for byte (a 16-bit PNG stays 16-bit); only a change re-encodes.
          const body =
            format && format !== entry.ref.format
              ? await sharp(entry.path, { limitInputPixels: false })
                  .toFormat(format as 'png')
                  .toBuffer()
              : await readFile(entry.path);
          const name = format ? entry.ref.name.replace(/\.[^.]*$/, '') + '.' + (format === 'jpeg' ? 'jpg' : format) : entry.ref.name;
          res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`);
          return send(res, 200, body, 'application/octet-stream');
        }
        if (parts.length > 4) return send(res, 404, 'not found');
        const region = await host.region(parseRegionQuery(id, search));
        return send(res, 200, region.data, region.mime);
      }
      if (parts[1] === 'api') return send(res, 404, 'not found');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'GET only');
      return await serveStatic(res, url.pathname);
    } catch (e) {
      if (!res.headersSent) sendError(res, e);
      else res.destroy();
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: Math.ceil((MAX_UPLOAD_BYTES * 4) / 3) + 4096 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/api/ws') return refuse('404 Not Found');
    if (!hostAllowed(req.headers.host, port) || !originAllowed(req.headers.origin, port)) return refuse('403 Forbidden');
    if (!tokenMatches(requestToken(req, url), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => void onMessage(ws, frameText(data)));
    });
  });

  const reply = (ws: WebSocket, msg: RpcResponse) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };

  const onMessage = async (ws: WebSocket, text: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return reply(ws, { id: null, error: { message: 'message is not valid JSON', code: 'bad-request', field: 'message' } });
    }
    const rawId = (raw as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'number' && Number.isInteger(rawId) && rawId >= 0 ? rawId : null;
    try {
      const req = parseRequest(raw);
      reply(ws, { id: req.id, result: (await dispatch(host, req.method, req.params)) ?? null });
    } catch (e) {
      reply(ws, { id, error: toRpcError(e) });
    }
  };

  const unsubscribe = host.onEvent((event) => {
    const text = JSON.stringify({ event });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  return {
    url,
    port,
    token,
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
    },
  };
}
