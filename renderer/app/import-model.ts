import type { EngineClient, ModelInfo } from '../api/client';
import { useModels } from '../state/models';
import { reportError, useUi } from '../state/ui';

/**
 * Imports a model file the user chose (Settings' dialog, or a drop) through the engine, adds it
 * to every model picker and selects it for upscaling.
 */
export async function importModelAt(client: EngineClient, path: string): Promise<ModelInfo> {
  const m = await client.importModel(path);
  useModels.getState().add(m);
  useUi.getState().setForm('upscale', { modelId: m.id, scale: m.scale });
  return m;
}

/** Dropped model files, one at a time (each writes into the models folder); a bad one is reported and the rest go on. */
export async function importDroppedModels(client: EngineClient, paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    try {
      useUi.getState().notify('info', importedText(await importModelAt(client, p)));
    } catch (e) {
      reportError(e);
    }
  }
}

export const importedText = (m: ModelInfo) => `Imported ${m.id}: ${m.family}, x${m.scale}, ${m.params.toLocaleString('en-US')} parameters`;

/** Web mode: a page never learns a dropped file's path, so the engine cannot import it from there. */
export const WEB_IMPORT_HINT = 'Models are imported with “minisr import <file>”, or with Settings › Import model… in the desktop app.';
