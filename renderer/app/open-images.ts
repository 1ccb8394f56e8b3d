import type { EngineClient, ImageRef } from '../api/client';
import { useImages } from '../state/images';
import { reportError, useUi } from '../state/ui';

const IMAGE_NAME = /\.(png|jpe?g|webp|avif|tiff?|gif|bmp|heif)$/i;

/** Whether a dropped/pasted file looks like an image (type, or extension when the type is empty). */
export const isImageFile = (f: File) => f.type.startsWith('image/') || IMAGE_NAME.test(f.name);

/** Uploads files (drop, paste, web picker) and shows the first; each failure is reported with its file. */
export async function importFiles(client: EngineClient, files: readonly File[]): Promise<ImageRef[]> {
  const refs: ImageRef[] = [];
  for (const f of files) {
    try {
      refs.push(await client.uploadImage(f, f.name || 'pasted.png'));
    } catch (e) {
      reportError(new Error(`${f.name || 'pasted image'}: ${(e as Error).message}`));
    }
  }
  show(refs);
  return refs;
}

/** Opens paths from a native dialog (Electron). */
export async function openPaths(client: EngineClient, paths: readonly string[]): Promise<ImageRef[]> {
  const refs: ImageRef[] = [];
  for (const p of paths) {
    try {
      refs.push(await client.openImage(p));
    } catch (e) {
      reportError(new Error(`${p}: ${(e as Error).message}`));
    }
  }
  show(refs);
  return refs;
}

function show(refs: ImageRef[]) {
  if (refs.length === 0) return;
  useImages.getState().add(refs);
  useUi.getState().setView('upscale');
}

/**
 * Splits a drop into image files and folders. Folders (readable through webkitGetAsEntry only)
 * go to the batch view; a page never learns a dropped folder's path, so the user picks it there.
 */
export function splitDrop(dt: DataTransfer): { files: File[]; folders: string[] } {
  const files: File[] = [];
  const folders: string[] = [];
  const items = Array.from(dt.items ?? []);
  if (items.length > 0 && typeof items[0]!.webkitGetAsEntry === 'function') {
    for (const it of items) {
      const entry = it.webkitGetAsEntry();
      if (entry?.isDirectory) folders.push(entry.name);
      else {
        const f = it.getAsFile();
        if (f && isImageFile(f)) files.push(f);
      }
    }
  } else {
    for (const f of Array.from(dt.files)) if (isImageFile(f)) files.push(f);
  }
  return { files, folders };
}
