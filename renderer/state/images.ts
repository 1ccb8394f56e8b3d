import { create } from 'zustand';
import type { ImageRef } from '../api/client';

/** Images the user opened (originals); outputs live with the jobs that made them. */
interface ImagesStore {
  readonly images: Readonly<Record<string, ImageRef>>;
  /** Opened originals, in the order they came in. */
  readonly order: readonly string[];
  readonly currentId?: string;
  add(refs: readonly ImageRef[]): void;
  select(id: string): void;
  remove(id: string): void;
  reset(): void;
}

export const useImages = create<ImagesStore>()((set) => ({
  images: {},
  order: [],
  add: (refs) =>
    set((s) => {
      if (refs.length === 0) return s;
      const images = { ...s.images };
      const order = [...s.order];
      for (const r of refs) {
        if (!images[r.id]) order.push(r.id);
        images[r.id] = r;
      }
      return { images, order, currentId: refs[0]!.id };
    }),
  select: (id) => set({ currentId: id }),
  remove: (id) =>
    set((s) => {
      const { [id]: _gone, ...images } = s.images;
      const order = s.order.filter((x) => x !== id);
      return { images, order, currentId: s.currentId === id ? order[order.length - 1] : s.currentId };
    }),
  reset: () => set({ images: {}, order: [], currentId: undefined }),
}));
