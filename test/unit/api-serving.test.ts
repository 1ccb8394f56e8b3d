import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, rendererCsp, rendererFile, staticMime } from '../../engine/api/serving';
import { ELECTRON_CSP } from '../../electron/main/protocols';
import { contentSecurityPolicy } from '../../scripts/web/server';

const BASE =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; font-src 'self'; connect-src 'self'; " +
  "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

describe('renderer serving shared by web mode and Electron', () => {
  it('builds one CSP with each front end adding its image and connection sources', () => {
    expect(rendererCsp({})).toBe(BASE);
    expect(contentSecurityPolicy(8123)).toBe(
      BASE.replace("connect-src 'self'", "connect-src 'self' ws://127.0.0.1:8123 ws://localhost:8123"),
    );
    expect(ELECTRON_CSP).toBe(
      BASE.replace("img-src 'self'", "img-src 'self' minisr-image:").replace("connect-src 'self'", "connect-src 'self' minisr-image:"),
    );
  });

  it('maps a URL path to a file under the root, refusing escapes and malformed escapes', () => {
    const root = resolve('/srv/renderer');
    expect(rendererFile(root, '/')).toBe(join(root, 'index.html'));
    expect(rendererFile(root, '/assets/app%20x.js')).toBe(join(root, 'assets', 'app x.js'));
    expect(rendererFile(root, '/%2e%2e/secret.txt')).toBeUndefined();
    expect(rendererFile(root, '/..%2frenderer-other/x')).toBeUndefined();
    expect(rendererFile(root, '/bad%zz.js')).toBeUndefined();
  });

  it('names static types and the HTTP status of each engine error code', () => {
    expect(staticMime('/a/index.html')).toBe('text/html; charset=utf-8');
    expect(staticMime('/a/app.MJS')).toBe('text/javascript; charset=utf-8');
    expect(staticMime('/a/blob.bin')).toBe('application/octet-stream');
    expect(HTTP_STATUS).toEqual({ 'bad-request': 400, forbidden: 403, 'not-found': 404, failed: 500 });
  });
});
