import { stat } from 'node:fs/promises';
import { z } from 'zod';
import type { PathPolicy } from '../../engine/api/paths';
import { importSourceFiles } from '../../engine/importers/import-model';
import { ValidationError } from '../../engine/api/schema';
import { readableExtensionsNoDot } from '../../engine/image/formats';
import { isModelFileName, MODEL_FILE_EXTENSIONS } from '../../engine/api/types';
import type { MainCallsApi } from '../channels';
import type { BrowserWindowLike, DialogLike } from './electron-api';
import { OpenRequests } from './open-requests';

/**
 * Native dialogs. What the user picks here is what the engine may touch: each result is added
 * to the path allow-list before it is returned.
 */

const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => !/[\\/\0]/.test(n), 'must be a file name, without folders');
const path = z.string().min(1).max(4096);

/**
 * A model file becomes readable with what its import reads: a model.json with the weight shards
 * it names (checked to lie beside it), nothing else of its folder. A model.json that cannot be
 * read for its shards is allowed alone: the import then says what is wrong with it.
 */
async function allowModel(paths: PathPolicy, file: string): Promise<string> {
  const reads = await importSourceFiles(file).catch(() => []);
  for (const f of reads) await paths.allowFile(f, 'read');
  return paths.allowFile(file, 'read');
}

function arg<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(field, r.error.issues[0]!.message);
  return r.data;
}

export function createDialogs(
  dialog: DialogLike,
  window: () => BrowserWindowLike,
  paths: PathPolicy,
  reveal: (path: string) => void,
  openRequests: OpenRequests = new OpenRequests(),
): MainCallsApi {
  const images = [{ name: 'Images', extensions: readableExtensionsNoDot() }];
  const imageName = new RegExp(`\\.(${readableExtensionsNoDot().join('|')})$`, 'i');
  return {
    async openFiles() {
      const r = await dialog.showOpenDialog(window(), {
        title: 'Open images',
        properties: ['openFile', 'multiSelections'],
        filters: images,
      });
      if (r.canceled) return [];
      return Promise.all(r.filePaths.map((p) => paths.allowFile(p, 'read')));
    },
    async openFolder() {
      const r = await dialog.showOpenDialog(window(), { title: 'Choose a folder', properties: ['openDirectory', 'createDirectory'] });
      const dir = r.filePaths[0];
      if (r.canceled || !dir) return null;
      return paths.allowRoot(dir, 'write');
    },
    async openCheckpoint() {
      const r = await dialog.showOpenDialog(window(), {
        title: 'Choose a checkpoint',
        properties: ['openFile'],
        filters: [{ name: 'Checkpoints', extensions: ['pth', 'pt', 'safetensors'] }],
      });
      const file = r.filePaths[0];
      if (r.canceled || !file) return null;
      return paths.allowFile(file, 'read');
    },
    async openModel() {
      const r = await dialog.showOpenDialog(window(), {
        title: 'Import a model',
        properties: ['openFile'],
        filters: [{ name: 'Models', extensions: [...MODEL_FILE_EXTENSIONS, 'json'] }],
      });
      const file = r.filePaths[0];
      if (r.canceled || !file) return null;
      return allowModel(paths, file);
    },
    async saveFile(defaultName: unknown) {
      const name = arg(fileName, defaultName, 'saveFile.params.0');
      const r = await dialog.showSaveDialog(window(), {
        defaultPath: name,
        filters: [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg', 'webp', 'avif', 'tif', 'tiff'] }],
      });
      if (r.canceled || !r.filePath) return null;
      return paths.allowFile(r.filePath, 'write');
    },
    async revealInFolder(target: unknown) {
      reveal(await paths.check(arg(path, target, 'revealInFolder.params.0'), 'read'));
    },
    takeOpenRequests: () => openRequests.take(),
    async openDropped(list: unknown) {
      const dropped = arg(z.array(path).max(10_000), list, 'openDropped.params.0');
      const out = { files: [] as string[], folders: [] as string[], models: [] as string[] };
      // Only what a drop can be: readable images, model files and folders, for reading. Anything else is skipped.
      for (const p of dropped) {
        const s = await stat(p).catch(() => undefined);
        if (s?.isDirectory()) out.folders.push(await paths.allowRoot(p, 'read'));
        else if (s?.isFile() && imageName.test(p)) out.files.push(await paths.allowFile(p, 'read'));
        else if (s?.isFile() && isModelFileName(p)) out.models.push(await allowModel(paths, p));
      }
      return out;
    },
  } as MainCallsApi;
}
