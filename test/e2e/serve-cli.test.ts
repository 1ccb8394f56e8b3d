import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

describe('minisr serve (child process)', () => {
  it('prints a loopback URL with a token, refuses requests without it, and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minisr-serve-'));
    await mkdir(join(dir, 'root'));
    await writeFile(join(dir, 'root/a.txt'), 'x');
    const child = spawn(
      process.execPath,
      [join(REPO, 'scripts/minisr.mjs'), 'serve', '--no-build', '--root', join(dir, 'root'), '--config', join(dir, 'config')],
      { cwd: REPO },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const url = await new Promise<string>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`no URL printed:\n${out}`)), 60_000);
      child.stdout.on('data', () => {
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43})/.exec(out);
        if (m && out.includes('Ctrl+C')) {
          clearTimeout(t);
          ok(m[1]!);
        }
      });
    });
    expect(out).toContain(`allowed folders: ${join(dir, 'root')}`);
    const base = url.replace(/\/\?token=.*/, '');
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/images/x`)).status).toBe(401);
    // Past the token check: the page, or 503 "renderer not built" when dist/renderer is missing (--no-build).
    expect([200, 503]).toContain((await fetch(url)).status);
    const code = await new Promise<number | null>((ok) => {
      child.on('exit', (c) => ok(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });

  it('refuses a bad port with a clear message', async () => {
    const child = spawn(process.execPath, [join(REPO, 'scripts/minisr.mjs'), 'serve', '--port', '99999', '--no-build'], { cwd: REPO });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(code).not.toBe(0);
    expect(err).toMatch(/a port number 0\.\.65535/);
  });
});
