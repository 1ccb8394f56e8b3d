import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { EngineHost } from '../../engine/api/host';
import { parseRegionQuery, toRpcError } from '../../engine/api/schema';
import type { ProtocolLike } from './electron-api';

/**
 * Two privileged schemes: `minisr-app://app/...` serves the built renderer with a strict CSP
 * (so the page never runs from file://), and `minisr-image://image/<id>?region` serves image
 * regions from the engine, the Electron twin of web mode's /api/images.
 */

export const APP_SCHEME = 'minisr-app';
export const IMAGE_SCHEME = 'minisr-image';

export const ELECTRON_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  `img-src 'self' ${IMAGE_SCHEME}: blob: data:`,
  "font-src 'self'",
  `connect-src 'self' ${IMAGE_SCHEME}:`,
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Must run before the app is ready. */
export function registerSchemes(protocol: Pick<ProtocolLike, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

function errorResponse(e: unknown): Response {
  const err = toRpcError(e);
  const status = { 'bad-request': 400, forbidden: 403, 'not-found': 404, failed: 500 }[err.code];
  return new Response(err.message, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

export async function serveApp(rendererDir: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const root = resolve(rendererDir);
  const file = resolve(root, '.' + (url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname)));
  if (url.host !== 'app' || (file !== root && !file.startsWith(root + sep))) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, { headers: { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': ELECTRON_CSP, 'X-Content-Type-Options': 'nosniff' } });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

export async function serveImage(host: EngineHost, request: Request): Promise<Response> {
  try {
    const url = new URL(request.url);
    const id = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (url.host !== 'image' || !id || id.includes('/')) return new Response('not found', { status: 404 });
    const search = new URLSearchParams(url.searchParams);
    if (search.get('download') === '1') {
      const entry = host.image(id);
      return new Response(await readFile(entry.path), { headers: { 'Content-Type': 'application/octet-stream' } });
    }
    const region = await host.region(parseRegionQuery(id, search));
    return new Response(new Uint8Array(region.data), { headers: { 'Content-Type': region.mime } });
  } catch (e) {
    return errorResponse(e);
  }
}

export function handleProtocols(protocol: Pick<ProtocolLike, 'handle'>, host: EngineHost, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (req) => serveApp(rendererDir, req));
  protocol.handle(IMAGE_SCHEME, (req) => serveImage(host, req));
}
