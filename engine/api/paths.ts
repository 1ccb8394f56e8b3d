import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The path allow-list. Front ends may only name files the user chose (dialog results, dropped
 * files, `--root` folders, CLI arguments) or files the engine created. Paths are compared after
 * resolving symlinks, so `..` and links cannot lead outside what was allowed.
 */

export class ForbiddenPathError extends Error {
  readonly code = 'forbidden';
  constructor(
    readonly path: string,
    purpose: string,
  ) {
    super(`${path}: not allowed to ${purpose} (only files and folders you chose, and files MiniSR created, can be used)`);
    this.name = 'ForbiddenPathError';
  }
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(sep));
}

/** Realpath of `p`; for a path that does not exist yet, its nearest existing ancestor's realpath joined with the rest. */
async function canonical(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return resolve(await canonical(parent), relative(parent, abs));
  }
}

export type Access = 'read' | 'write';

export class PathPolicy {
  /** Folders whose whole subtree is allowed, by access. */
  private readonly roots: { path: string; access: Access }[] = [];
  /** Single files allowed, by access. */
  private readonly files = new Map<string, Access>();

  /** Allows a folder and everything under it (`write` includes read). */
  async allowRoot(dir: string, access: Access = 'write'): Promise<string> {
    const path = await canonical(dir);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isDirectory()) throw new Error(`${dir}: not a folder`);
    if (!this.roots.some((r) => r.path === path && (r.access === access || r.access === 'write'))) this.roots.push({ path, access });
    return path;
  }

  /** Allows one file (read: a file the user opened; write: a save target the user chose). */
  async allowFile(file: string, access: Access = 'read'): Promise<string> {
    const path = await canonical(file);
    if (this.files.get(path) !== 'write') this.files.set(path, access);
    return path;
  }

  /** The allowed folders (for browsing). */
  rootList(): string[] {
    return this.roots.map((r) => r.path);
  }

  /** Whether `p` is allowed for `access` (check's answer, without the error). */
  allows(p: string, access: Access): Promise<boolean> {
    return this.check(p, access).then(
      () => true,
      () => false,
    );
  }

  /** Canonical path when allowed for `access`; a ForbiddenPathError otherwise. */
  async check(p: string, access: Access): Promise<string> {
    if (typeof p !== 'string' || p.length === 0) throw new ForbiddenPathError(String(p), access);
    const path = await canonical(p);
    const file = this.files.get(path);
    if (file === 'write' || file === access) return path;
    if (this.roots.some((r) => (r.access === 'write' || r.access === access) && inside(path, r.path))) return path;
    throw new ForbiddenPathError(p, access === 'read' ? 'read' : 'write');
  }
}
