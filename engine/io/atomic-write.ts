import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes a file whole or not at all: a uniquely named temp file beside the target, then a rename
 * over it (atomic on one file system); the temp file is removed when either step fails.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** `value` as indented JSON with a final newline, written by writeFileAtomic. */
export function writeJsonAtomic(file: string, value: unknown, indent = 2): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, indent) + '\n');
}
