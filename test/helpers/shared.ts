import { existsSync } from 'node:fs';
import path from 'node:path';

/** Absolute path of `../shared` beside the repository, where datasets, weights and goldens live. */
export const SHARED_DIR = path.resolve(import.meta.dirname, '../../../shared');

const present = existsSync(path.join(SHARED_DIR, 'README.md'));

/**
 * Whether tests that need `../shared` can run. When it is absent they are skipped loudly,
 * and under CI=true its absence is a failure: such tests must never pass silently.
 */
export function sharedAvailable(what: string): boolean {
  if (present) return true;
  if (process.env.CI === 'true') {
    throw new Error(`../shared is missing (${SHARED_DIR}); CI must run with it beside the clone (needed by: ${what})`);
  }
  console.warn(`\n*** SKIPPING ${what}: ../shared not found at ${SHARED_DIR} ***\n`);
  return false;
}

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}
