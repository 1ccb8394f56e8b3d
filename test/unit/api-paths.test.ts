import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenPathError, PathPolicy } from '../../engine/api/paths';

describe('PathPolicy (allow-list)', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'minisr-paths-'));
    await mkdir(join(base, 'root/sub'), { recursive: true });
    await mkdir(join(base, 'outside'));
    await writeFile(join(base, 'root/sub/a.png'), 'x');
    await writeFile(join(base, 'outside/secret.png'), 'x');
    await writeFile(join(base, 'picked.png'), 'x');
    await symlink(join(base, 'outside'), join(base, 'root/escape'));
  });

  it('allows what is under a root, for reading and writing, including files yet to exist', async () => {
    const p = new PathPolicy();
    await p.allowRoot(join(base, 'root'));
    await expect(p.check(join(base, 'root/sub/a.png'), 'read')).resolves.toBe(join(base, 'root/sub/a.png'));
    await expect(p.check(join(base, 'root/new/out.png'), 'write')).resolves.toBe(join(base, 'root/new/out.png'));
  });

  it('refuses paths outside, `..` escapes and symlinks leading out, with a clear error', async () => {
    const p = new PathPolicy();
    await p.allowRoot(join(base, 'root'));
    for (const bad of [
      join(base, 'outside/secret.png'),
      join(base, 'root/../outside/secret.png'),
      join(base, 'root/escape/secret.png'),
      '/etc/passwd',
      join(base, 'root-sibling'),
    ]) {
      const e = await p.check(bad, 'read').catch((x: unknown) => x);
      expect(e, bad).toBeInstanceOf(ForbiddenPathError);
      expect((e as ForbiddenPathError).code).toBe('forbidden');
      expect((e as Error).message).toContain('not allowed to read');
    }
  });

  it('a chosen file is readable but not writable; a chosen save target is writable; read-only roots refuse writes', async () => {
    const p = new PathPolicy();
    await p.allowFile(join(base, 'picked.png'), 'read');
    await expect(p.check(join(base, 'picked.png'), 'read')).resolves.toBeTruthy();
    await expect(p.check(join(base, 'picked.png'), 'write')).rejects.toThrow(/not allowed to write/);
    await expect(p.check(join(base, 'sibling.png'), 'read')).rejects.toThrow(ForbiddenPathError);
    await p.allowFile(join(base, 'save-here.png'), 'write');
    await expect(p.check(join(base, 'save-here.png'), 'write')).resolves.toBeTruthy();
    const ro = new PathPolicy();
    await ro.allowRoot(join(base, 'root'), 'read');
    await expect(ro.check(join(base, 'root/sub/a.png'), 'read')).resolves.toBeTruthy();
    await expect(ro.check(join(base, 'root/sub/b.png'), 'write')).rejects.toThrow(/not allowed to write/);
  });

  it('refuses a root that is not a folder', async () => {
    await expect(new PathPolicy().allowRoot(join(base, 'picked.png'))).rejects.toThrow(/not a folder/);
  });
});
