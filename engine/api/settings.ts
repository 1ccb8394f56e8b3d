import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic-write';
import { settingsPatch } from './schema';
import type { Settings } from './types';

export const DEFAULT_SETTINGS: Settings = {
  ep: 'auto',
  tile: 0,
  threads: 0,
  keepMetadata: true,
  nameTemplate: '{name}_{model}_x{scale}.{ext}',
  format: 'same',
  quality: 92,
  theme: 'system',
  queueUrl: '',
};

/** Settings persisted as JSON in the config folder; a damaged file falls back to defaults field by field. */
export class SettingsStore {
  private current: Settings = DEFAULT_SETTINGS;
  private readonly file: string;

  private constructor(readonly configDir: string) {
    this.file = join(configDir, 'settings.json');
  }

  static async open(configDir: string): Promise<SettingsStore> {
    const store = new SettingsStore(configDir);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(store.file, 'utf8'));
    } catch {
      return store; // absent or unreadable: defaults
    }
    if (typeof raw === 'object' && raw !== null) {
      const kept: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (settingsPatch.safeParse({ [k]: v }).success) kept[k] = v; // keep each valid field
      }
      store.current = { ...DEFAULT_SETTINGS, ...kept };
    }
    return store;
  }

  get(): Settings {
    return this.current;
  }

  /** Applies an already validated patch and writes the file atomically. */
  async update(patch: Partial<Settings>): Promise<Settings> {
    this.current = { ...this.current, ...patch };
    await mkdir(this.configDir, { recursive: true });
    await writeJsonAtomic(this.file, this.current);
    return this.current;
  }
}
