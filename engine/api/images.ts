import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { probeImage } from '../image/decode';
import { formatFromExtension, outputFormatFor, type OutputFormat } from '../image/formats';
import { assertNotInput } from '../upscale/pipeline';
import { MAX_UPLOAD_BYTES } from './schema';
import type { ImageRef } from './types';

/**
 * The images the engine holds, by id: files the user opened, uploads (stored in this session's
 * temporary folder) and outputs the engine produced. Ids are random, so one cannot guess
 * another session's images.
 */

export interface ImageEntry {
  readonly ref: ImageRef;
  readonly path: string;
  readonly origin: 'opened' | 'upload' | 'output';
}

export class NotFoundError extends Error {
  readonly code = 'not-found';
}

/** A file name safe to create: no folders, no control or reserved characters, bounded length. */
export function safeFileName(name: string): string {
  const base = name
    .replace(/^.*[\\/]/, '')
    .replace(/[\u0000-\u001f<>:"|?*]/g, '_')
    .replace(/^\.+/, '');
  const ext = extname(base).slice(0, 10);
  const stem = base.slice(0, base.length - extname(base).length).slice(0, 100);
  return (stem || 'image') + ext;
}

export class ImageStore {
  private readonly entries = new Map<string, ImageEntry>();
  readonly uploadsDir: string;
  readonly outputsDir: string;

  constructor(readonly sessionDir: string) {
    this.uploadsDir = join(sessionDir, 'uploads');
    this.outputsDir = join(sessionDir, 'outputs');
  }

  async init(): Promise<void> {
    await mkdir(this.uploadsDir, { recursive: true });
    await mkdir(this.outputsDir, { recursive: true });
  }

  get(id: string): ImageEntry {
    const e = this.entries.get(id);
    if (!e) throw new NotFoundError(`no image with id ${JSON.stringify(id)} (it may belong to an earlier session)`);
    return e;
  }

  /** Registers an existing file (already checked against the allow-list). */
  async add(path: string, origin: ImageEntry['origin'], name = path.replace(/^.*[\\/]/, '')): Promise<ImageRef> {
    const info = await probeImage(path);
    const { size } = await stat(path);
    const ref: ImageRef = {
      id: randomBytes(12).toString('base64url'),
      name,
      width: info.width,
      height: info.height,
      format: info.format,
      hasAlpha: info.hasAlpha,
      bytes: size,
    };
    this.entries.set(ref.id, { ref, path, origin });
    return ref;
  }

  /** Stores uploaded bytes in the session folder and registers them; refuses what is not an image. */
  async addUpload(name: string, bytes: Uint8Array): Promise<ImageRef> {
    if (bytes.length === 0) throw new Error(`${name}: the upload is empty`);
    if (bytes.length > MAX_UPLOAD_BYTES)
      throw new Error(`${name}: upload of ${bytes.length} bytes is over the ${MAX_UPLOAD_BYTES}-byte limit`);
    const safe = safeFileName(name);
    const dir = join(this.uploadsDir, randomBytes(6).toString('hex'));
    await mkdir(dir);
    const path = join(dir, safe);
    await writeFile(path, bytes, { flag: 'wx' });
    try {
      return await this.add(path, 'upload', safe);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** A fresh path for an engine output in the session folder. */
  async outputPath(fileName: string): Promise<string> {
    const dir = join(this.outputsDir, randomBytes(6).toString('hex'));
    await mkdir(dir);
    return join(dir, safeFileName(fileName));
  }

  /**
   * Writes an image to `target` (already checked against the allow-list), atomically and never
   * over its own source. The format: as asked, else the target's extension (png for one we do
   * not write), else the image's own; the same format without a quality is a plain copy.
   */
  async save(id: string, target: string, opts: { format?: OutputFormat; quality?: number; keepMetadata: boolean }): Promise<void> {
    const entry = this.get(id);
    await assertNotInput(entry.path, target);
    const fmt = opts.format ?? (extname(target) ? (formatFromExtension(target) ?? 'png') : outputFormatFor(entry.ref.format));
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      if (fmt === entry.ref.format && opts.quality === undefined) await copyFile(entry.path, tmp);
      else {
        let img = sharp(entry.path, { limitInputPixels: false });
        if (opts.keepMetadata) img = img.keepMetadata();
        await img.toFormat(fmt, opts.quality !== undefined ? { quality: opts.quality } : {}).toFile(tmp);
      }
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async dispose(): Promise<void> {
    await rm(this.sessionDir, { recursive: true, force: true });
  }
}
