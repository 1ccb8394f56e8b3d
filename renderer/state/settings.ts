import { create } from 'zustand';
import type { EngineClient, Settings, SystemInfo } from '../api/client';

interface SettingsStore {
  readonly settings?: Settings;
  readonly system?: SystemInfo;
  readonly error?: string;
  load(client: EngineClient): Promise<void>;
  /** Applies the change at once and keeps what the engine answers (it may normalise values). */
  update(client: EngineClient, patch: Partial<Settings>): Promise<void>;
  reset(): void;
}

export const useSettings = create<SettingsStore>()((set, get) => ({
  async load(client) {
    try {
      const [settings, system] = await Promise.all([client.getSettings(), client.systemInfo()]);
      set({ settings, system, error: undefined });
    } catch (e) {
      set({ error: (e as Error).message });
    }
  },
  async update(client, patch) {
    const before = get().settings;
    if (before) set({ settings: { ...before, ...patch } });
    try {
      set({ settings: await client.setSettings(patch), error: undefined });
    } catch (e) {
      set({ settings: before, error: (e as Error).message });
    }
  },
  reset: () => set({ settings: undefined, system: undefined, error: undefined }),
}));
