import { readFile } from 'node:fs/promises';
import type { EngineHost } from '../../engine/api/host';
import { parseRegionQuery, toRpcError } from '../../engine/api/schema';
import { HTTP_STATUS, rendererCsp, rendererFile, staticMime } from '../../engine/api/serving';
import type { ProtocolLike } from './electron-api';

/**
 * Two privileged schemes: `minisr-app://app/...` serves the built renderer with a strict CSP
 * (so the page never runs from file://), and `minisr-image://image/<id>?region` serves image
 * regions from the engine, the Electron twin of web mode's /api/images.
 */

export const APP_SCHEME = 'minisr-app';
export const IMAGE_SCHEME = 'minisr-image';

export const ELECTRON_CSP = rendererCsp({ img: [`${IMAGE_SCHEME}:`], connect: [`${IMAGE_SCHEME}:`] });

/** Must run before the app is ready. */
export function registerSchemes(protocol: Pick<ProtocolLike, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

function errorResponse(e: unknown): Response {
  const err = toRpcError(e);
  return new Response(err.message, { status: HTTP_STATUS[err.code], headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

export async function serveApp(rendererDir: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const file = rendererFile(rendererDir, url.pathname);
  if (url.host !== 'app' || !file) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: { 'Content-Type': staticMime(file), 'Content-Security-Policy': ELECTRON_CSP, 'X-Content-Type-Options': 'nosniff' },
    });
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
