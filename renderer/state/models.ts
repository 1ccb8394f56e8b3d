import { create } from 'zustand';
import type { EngineClient, ModelInfo } from '../api/client';

interface ModelsStore {
  readonly models: readonly ModelInfo[];
  readonly loaded: boolean;
  readonly error?: string;
  load(client: EngineClient): Promise<void>;
  /** A model the engine produced (distillation) or registered. */
  add(model: ModelInfo): void;
  reset(): void;
}

export const useModels = create<ModelsStore>()((set) => ({
  models: [],
  loaded: false,
  async load(client) {
    try {
      const models = await client.listModels();
      set({ models, loaded: true, error: undefined });
    } catch (e) {
      set({ loaded: true, error: (e as Error).message });
    }
  },
  add: (model) => set((s) => ({ models: [...s.models.filter((m) => m.id !== model.id), model] })),
  reset: () => set({ models: [], loaded: false, error: undefined }),
}));

export const findModel = (models: readonly ModelInfo[], id: string | undefined) => models.find((m) => m.id === id);
