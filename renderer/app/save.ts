import type { EngineClient, ImageRef, OutputFormat, Settings } from '../api/client';
import { reportError, useUi } from '../state/ui';

const EXT: Record<OutputFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp', avif: 'avif', tiff: 'tif' };

/** The format an output is saved in: the setting, or the source's own format for 'same'. */
export function outputFormat(settings: Settings | undefined, source: ImageRef | undefined): OutputFormat {
  const f = settings?.format ?? 'png';
  if (f !== 'same') return f;
  const src = source?.format.toLowerCase();
  return src === 'jpg' || src === 'jpeg' ? 'jpeg' : src && src in EXT ? (src as OutputFormat) : 'png';
}

/** Fills the naming template, e.g. `{name}_{model}_x{scale}.{ext}` → `cat_edsr-mini-x2_x4.png`. */
export function outputName(template: string, source: string, model: string, scale: number, format: OutputFormat): string {
  const name = source.replace(/\.[^.]+$/, '');
  const filled = template
    .replaceAll('{name}', name)
    .replaceAll('{model}', model)
    .replaceAll('{scale}', String(scale))
    .replaceAll('{ext}', EXT[format]);
  return filled.replace(/[\\/:*?"<>|]/g, '_');
}

/** Saves an output: Electron asks where with a native dialog; web mode downloads the file. */
export async function saveOutput(
  client: EngineClient,
  output: ImageRef,
  name: string,
  format: OutputFormat,
  quality: number | undefined,
): Promise<void> {
  try {
    if (client.dialogs) {
      const path = await client.dialogs.saveFile(name);
      if (!path) return;
      const written = await client.saveImage(output.id, path, format, quality);
      useUi.getState().notify('info', `Saved ${written}`);
    } else {
      const a = document.createElement('a');
      a.href = client.downloadUrl(output.id, format);
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
    }
  } catch (e) {
    reportError(e);
  }
}
