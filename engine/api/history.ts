import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../io/atomic-write';
import type { History, RecentBatch, RecentImage } from './types';

/** Entries kept of each kind; older ones fall off. */
export const HISTORY_LIMIT = 20;

const text = z.string().min(1).max(4096);
const recentImage = z
  .object({
    path: text,
    name: text,
    at: z.string().max(40),
    action: z.enum(['upscaled', 'saved']),
    modelId: z.string().max(200).optional(),
    scale: z.number().int().min(1).max(16).optional(),
  })
  .strict();
const count = z.number().int().min(0);
const recentBatch = z
  .object({
    id: z.string().min(1).max(200),
    inputs: z.array(text).min(1).max(10_000),
    outputDir: text,
    modelId: z.string().max(200),
    scale: z.number().int().min(1).max(16),
    at: z.string().max(40),
    state: z.enum(['started', 'finished', 'failed', 'cancelled']),
    files: count,
    done: count.optional(),
    failed: count.optional(),
    skipped: count.optional(),
  })
  .strict();
const historyFile = z.object({ images: z.array(recentImage), batches: z.array(recentBatch) }).strict();

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * Recent images and batches, persisted as `history.json` in the config folder so they survive a
 * restart. A damaged or foreign file is set aside (empty history, reason logged), never a crash;
 * writes go to a temporary file renamed over the old one, one at a time.
 */
export class HistoryStore {
  private current: { images: RecentImage[]; batches: RecentBatch[] } = { images: [], batches: [] };
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly configDir: string) {
    this.file = join(configDir, 'history.json');
  }

  static async open(configDir: string, warn: (message: string) => void = (m) => console.warn(m)): Promise<HistoryStore> {
    const store = new HistoryStore(configDir);
    let text: string;
    try {
      text = await readFile(store.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        warn(`${store.file}: unreadable (${(e as Error).message}); starting with an empty history`);
      return store;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      warn(`${store.file}: not JSON (${(e as Error).message}); starting with an empty history`);
      return store;
    }
    const parsed = historyFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      warn(
        `${store.file}: not a MiniSR history (${[...issue.path].join('.') || 'file'}: ${issue.message}); starting with an empty history`,
      );
      return store;
    }
    store.current = {
      images: parsed.data.images.slice(0, HISTORY_LIMIT),
      batches: parsed.data.batches.slice(0, HISTORY_LIMIT),
    };
    return store;
  }

  /** The entries, newest first, each marked `missing` when its file (an image, a batch's input or output folder) is gone. */
  async list(): Promise<History> {
    const images = await Promise.all(this.current.images.map(async (e) => ((await exists(e.path)) ? e : { ...e, missing: true })));
    const batches = await Promise.all(
      this.current.batches.map(async (b) => {
        const present = await Promise.all([...b.inputs, b.outputDir].map(exists));
        return present.every(Boolean) ? b : { ...b, missing: true };
      }),
    );
    return { images, batches };
  }

  /** Records an image (the same path moves to the top). */
  addImage(entry: Omit<RecentImage, 'at' | 'missing'>): Promise<void> {
    const e: RecentImage = { ...entry, at: new Date().toISOString() };
    const images = [e, ...this.current.images.filter((i) => i.path !== entry.path)].slice(0, HISTORY_LIMIT);
    return this.save({ ...this.current, images });
  }

  /** Records a started batch; the same inputs to the same folder replace their older entry. */
  addBatch(entry: Omit<RecentBatch, 'at' | 'state' | 'missing'>): Promise<void> {
    const key = (b: Pick<RecentBatch, 'inputs' | 'outputDir'>) => JSON.stringify([b.inputs, b.outputDir]);
    const b: RecentBatch = { ...entry, at: new Date().toISOString(), state: 'started' };
    const batches = [b, ...this.current.batches.filter((o) => key(o) !== key(entry))].slice(0, HISTORY_LIMIT);
    return this.save({ ...this.current, batches });
  }

  /** Updates a recorded batch when it ends (a batch no longer listed is ignored). */
  finishBatch(id: string, end: Pick<RecentBatch, 'state' | 'done' | 'failed' | 'skipped'>): Promise<void> {
    if (!this.current.batches.some((b) => b.id === id)) return this.writing;
    const batches = this.current.batches.map((b) => (b.id === id ? { ...b, ...end } : b));
    return this.save({ ...this.current, batches });
  }

  clear(): Promise<void> {
    return this.save({ images: [], batches: [] });
  }

  private save(next: HistoryStore['current']): Promise<void> {
    this.current = next;
    const write = async () => {
      await mkdir(this.configDir, { recursive: true });
      await writeJsonAtomic(this.file, this.current);
    };
    // Writes run in order, so an older state never lands after a newer one.
    this.writing = this.writing.then(write, write);
    return this.writing;
  }
}
