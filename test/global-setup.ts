import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRenderer, RENDERER_DIR } from '../scripts/web/serve';

/**
 * Builds the renderer once before any test file runs, so parallel e2e files never build it at the
 * same time; and gives the run its own temporary folder (TMPDIR, inherited by the test workers,
 * the CLIs they start and Chromium), removed at the end, so no run leaves folders behind.
 */
export function setup(): (() => void) | undefined {
  if (process.env.MINISR_TEST_TMP) return undefined; // each vitest project runs the setup: once is enough
  ensureRenderer(RENDERER_DIR, (line) => console.log(line));
  const runTmp = mkdtempSync(join(tmpdir(), 'minisr-test-run-'));
  process.env.TMPDIR = process.env.MINISR_TEST_TMP = runTmp;
  return () => {
    if (process.env.MINISR_KEEP_TEST_TMP) console.log(`test files kept in ${runTmp}`);
    else rmSync(runTmp, { recursive: true, force: true });
  };
}
