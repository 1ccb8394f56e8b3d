import { extname, resolve, sep } from 'node:path';
import type { RpcError } from './rpc';

/**
 * What both front ends that serve the built renderer agree on (web mode's HTTP server and
 * Electron's minisr-app:// protocol): the page's CSP, static file types, which file a URL path
 * names, and the HTTP status of an engine error.
 */

/** The renderer page's CSP; each front end adds the sources of its image regions and its API connection. */
export function rendererCsp(extra: { readonly img?: readonly string[]; readonly connect?: readonly string[] }): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self'", ...(extra.img ?? []), 'blob: data:'].join(' '),
    "font-src 'self'",
    ["connect-src 'self'", ...(extra.connect ?? [])].join(' '),
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Content-Type of a static renderer file, by its extension. */
export function staticMime(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The file under `root` that a URL path names ('/' is index.html); undefined when it would leave `root` or is malformed. */
export function rendererFile(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = pathname === '/' ? '/index.html' : decodeURIComponent(pathname);
  } catch {
    return undefined; // a stray '%': no such file
  }
  const base = resolve(root);
  const file = resolve(base, '.' + decoded);
  return file === base || file.startsWith(base + sep) ? file : undefined;
}

export const HTTP_STATUS: Readonly<Record<RpcError['code'], number>> = {
  'bad-request': 400,
  forbidden: 403,
  'not-found': 404,
  failed: 500,
};
