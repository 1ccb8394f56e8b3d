import { create } from 'zustand';
import type { DistillRequest, PruneRequest, PruneSummary, ZooConfig } from '../../engine/api/types';

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

/** What the user typed into each view's form: kept here so switching views loses nothing. */
export interface Forms {
  readonly upscale: { readonly modelId?: string; readonly scale: number };
  readonly batch: {
    readonly inputs: readonly string[];
    readonly outputDir?: string;
    readonly modelId?: string;
    readonly scale: number;
    readonly recursive: boolean;
    readonly skipExisting: boolean;
    readonly glob: string;
  };
  /** The request's own fields as typed, plus how the teacher was chosen; valDir '' = none. */
  readonly distill: Pick<DistillRequest, 'student' | 'scale' | 'steps' | 'batch' | 'patch' | 'lr' | 'dataDir'> & {
    /** A model id, or IMPORT_TEACHER for a file path. */
    readonly teacher?: string;
    readonly teacherPath: string;
    readonly teacherPreset: string;
    readonly valDir: string;
    /**
     * The student's start: random weights, or inherited from the teacher (its top-ranked channels
     * and blocks); unset: inherited where it can be, else random (InheritField's studentInit).
     */
    readonly init?: 'random' | 'inherit';
    /** The student planned in stage 2 (chosen when `student` is PLANNED_STUDENT), and the report it was planned from. */
    readonly planned?: { readonly config: ZooConfig; readonly params: number; readonly label: string; readonly report?: string };
  };
  /** Stage 1; teacher as in distill (a model id or IMPORT_TEACHER). */
  readonly prune: Pick<PruneRequest, 'steps' | 'lambda' | 'dataDir'> & {
    readonly teacher?: string;
    readonly teacherPath: string;
    readonly teacherPreset: string;
    readonly valDir: string;
    readonly batch: number;
    readonly patch: number;
    readonly lr: number;
  };
  /**
   * Stage 2's target: budget in percent of the teacher's parameters, sizes N_c/N_b/N_l; and a
   * report loaded from a file (an earlier or a CLI run), which a newer prune run replaces.
   */
  readonly compress: {
    readonly budget: number;
    readonly feats: number;
    readonly blocks: number;
    readonly layers: number;
    readonly reportFile: string;
    readonly loaded?: PruneSummary;
    /** EDSR: the student's res_scale (EDSRmini uses 2); 0 = the teacher's. */
    readonly resScale: number;
  };
}

export const IMPORT_TEACHER = '__import__';
/** The distill form's student value meaning "the config planned in stage 2". */
export const PLANNED_STUDENT = '__planned__';

const initialForms: Forms = {
  upscale: { scale: 2 },
  batch: { inputs: [], scale: 2, recursive: true, skipExisting: true, glob: '' },
  distill: {
    teacherPath: '',
    teacherPreset: 'edsr-baseline',
    student: 'edsr-mini',
    steps: 2000,
    batch: 16,
    patch: 48,
    lr: 2e-4,
    dataDir: '',
    valDir: '',
  },
  // engine/compress/README.md's example run: 600 steps, lambda 1e-3 (CLI), batch 8, patch 32, SGD rate 1e-2.
  prune: {
    teacherPath: '',
    teacherPreset: 'edsr-baseline',
    steps: 600,
    lambda: 1e-3,
    batch: 8,
    patch: 32,
    lr: 1e-2,
    dataDir: '',
    valDir: '',
  },
  compress: { budget: 5, feats: 16, blocks: 8, layers: 4, reportFile: '', resScale: 0 },
};

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
  readonly forms: Forms;
  setView(view: View): void;
  setForm<K extends keyof Forms>(name: K, patch: Partial<Forms[K]>): void;
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
  forms: initialForms,
  setView: (view) => set({ view }),
  setForm: (name, patch) => set((s) => ({ forms: { ...s.forms, [name]: { ...s.forms[name], ...patch } } })),
  setCompare: (patch) => set((s) => ({ compare: { ...s.compare, ...patch } })),
  notify: (kind, text) => set((s) => ({ notices: [...s.notices.slice(-3), { id: nextNotice++, kind, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  setDroppedFolder: (droppedFolder) => set({ droppedFolder }),
  reset: () => set({ view: 'upscale', compare: initialCompare, notices: [], droppedFolder: undefined, forms: initialForms }),
}));

/** Shows a failed call's message to the user. */
export const reportError = (e: unknown) => useUi.getState().notify('error', e instanceof Error ? e.message : String(e));

/** One view's form and its setter. */
export function useForm<K extends keyof Forms>(name: K): [Forms[K], (patch: Partial<Forms[K]>) => void] {
  const form = useUi((s) => s.forms[name]);
  return [form, (patch) => useUi.getState().setForm(name, patch)];
}
