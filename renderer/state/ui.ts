import { create } from 'zustand';

export const VIEWS = ['upscale', 'compare', 'batch', 'wizard', 'settings'] as const;
export type View = (typeof VIEWS)[number];

export type CompareMode = 'split' | 'side' | 'diff';
export interface CompareState {
  readonly sourceId?: string;
  /** Output scale the panes compare at (2, 4 or 8). */
  readonly scale: number;
  /** Model A (left of the split) and model B (right). */
  readonly a?: string;
  readonly b?: string;
  /** What the split's left side shows: the original or model A. */
  readonly splitLeft: 'original' | 'a';
  readonly mode: CompareMode;
  /** Split position, 0..1 of the viewer's width. */
  readonly split: number;
  /** Amplification of |A − B| in the difference view. */
  readonly diffGain: number;
}

export interface Notice {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
}

interface UiStore {
  readonly view: View;
  readonly compare: CompareState;
  readonly notices: readonly Notice[];
  /** A folder dropped where its path is unknown: the batch view asks the user to pick it. */
  readonly droppedFolder?: string;
  setView(view: View): void;
  setCompare(patch: Partial<CompareState>): void;
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
  setDroppedFolder(name: string | undefined): void;
  reset(): void;
}

let nextNotice = 1;
const initialCompare: CompareState = { scale: 2, splitLeft: 'original', mode: 'split', split: 0.5, diffGain: 8 };

export const useUi = create<UiStore>()((set) => ({
  view: 'upscale',
  compare: initialCompare,
  notices: [],
  setView: (view) => set({ view }),
  setCompare: (patch) => set((s) => ({ compare: { ...s.compare, ...patch } })),
  notify: (kind, text) => set((s) => ({ notices: [...s.notices.slice(-3), { id: nextNotice++, kind, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  setDroppedFolder: (droppedFolder) => set({ droppedFolder }),
  reset: () => set({ view: 'upscale', compare: initialCompare, notices: [], droppedFolder: undefined }),
}));

/** Shows a failed call's message to the user. */
export const reportError = (e: unknown) => useUi.getState().notify('error', e instanceof Error ? e.message : String(e));
