import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic-write';

/**
 * Measured CPU speed per model on this machine (input megapixels per second), from the user's
 * own upscales: the latest runs, averaged, persisted beside the settings. Shown in the model
 * picker; never guessed.
 */

const KEEP = 5;

export class SpeedLog {
  private runs: Record<string, number[]> = {};
  private readonly file: string;

  private constructor(dir: string) {
    this.file = join(dir, 'speeds.json');
  }

  static async open(dir: string): Promise<SpeedLog> {
    const log = new SpeedLog(dir);
    try {
      const raw = JSON.parse(await readFile(log.file, 'utf8')) as unknown;
      if (typeof raw === 'object' && raw !== null) {
        for (const [k, v] of Object.entries(raw)) {
          if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) log.runs[k] = v.slice(-KEEP);
        }
      }
    } catch {
      // none measured yet
    }
    return log;
  }

  /** Mean of the latest runs, when there are any. */
  get(modelId: string): number | undefined {
    const r = this.runs[modelId];
    return r && r.length > 0 ? r.reduce((a, b) => a + b, 0) / r.length : undefined;
  }

  async record(modelId: string, megapixels: number, seconds: number): Promise<void> {
    if (!(megapixels > 0 && seconds > 0)) return;
    this.runs[modelId] = [...(this.runs[modelId] ?? []), megapixels / seconds].slice(-KEEP);
    await mkdir(join(this.file, '..'), { recursive: true });
    await writeJsonAtomic(this.file, this.runs);
  }
}
