import { ensureRenderer, RENDERER_DIR } from '../scripts/web/serve';

/** Builds the renderer once before any test file runs, so parallel e2e files never build it at the same time. */
export function setup(): void {
  ensureRenderer(RENDERER_DIR, (line) => console.log(line));
}
