import { create } from 'zustand';
import type {
  BatchFileStatus,
  BatchRequest,
  DistillRequest,
  EngineEvent,
  JobInfo,
  JobKind,
  ModelInfo,
  PruneRequest,
  PruneSummary,
  UpscaleRequest,
  UpscaleResult,
} from '../api/client';

export interface Progress {
  readonly done: number;
  readonly total: number;
  readonly megapixelsPerSec?: number;
  readonly etaSec?: number;
  readonly detail?: string;
}

export interface TrainPoint {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
}

export interface TrainLog {
  readonly steps: number;
  /** Evenly spaced (`stride` steps apart, see `addPoint`), the newest last. */
  readonly points: readonly TrainPoint[];
  readonly stride: number;
  readonly val: readonly { readonly step: number; readonly psnr: number }[];
  readonly stepsPerSec: number;
  readonly etaSec: number;
}

/** What the UI asked for when it started a job; events only carry the job id. */
export type JobRequest =
  | { readonly kind: 'upscale'; readonly req: UpscaleRequest }
  | { readonly kind: 'batch'; readonly req: BatchRequest }
  | { readonly kind: 'distill'; readonly req: DistillRequest }
  | { readonly kind: 'prune'; readonly req: PruneRequest };

export interface JobEntry {
  readonly info: JobInfo;
  readonly request?: JobRequest;
  readonly progress?: Progress;
  /** Batch queue in the order the engine first reported each file. */
  readonly files?: readonly BatchFileStatus[];
  readonly train?: TrainLog;
  readonly upscale?: UpscaleResult;
  readonly batchSummary?: { readonly done: number; readonly failed: number; readonly skipped: number };
  readonly model?: ModelInfo;
  readonly prune?: PruneSummary;
}

export interface JobsState {
  readonly jobs: Readonly<Record<string, JobEntry>>;
  /** Job ids, oldest first. */
  readonly order: readonly string[];
}

export const emptyJobs: JobsState = { jobs: {}, order: [] };

const KIND_OF_EVENT: Partial<Record<EngineEvent['type'], JobKind>> = {
  'batch-file': 'batch',
  'batch-done': 'batch',
  train: 'distill',
  'distill-done': 'distill',
  'upscale-done': 'upscale',
  'prune-done': 'prune',
};

function withEntry(s: JobsState, id: string, kind: JobKind | undefined, f: (e: JobEntry) => JobEntry): JobsState {
  const prev = s.jobs[id];
  // Events can outrun the call that started the job: keep them on a provisional entry.
  const base: JobEntry = prev ?? { info: { id, kind: kind ?? 'upscale', state: 'running', title: '' } };
  return { jobs: { ...s.jobs, [id]: f(base) }, order: prev ? s.order : [...s.order, id] };
}

/**
 * The most loss points a job keeps: a chart shows no more than about one a pixel, and a fast run
 * (a small model at hundreds of steps a second) would otherwise grow the array, and the cost of
 * each event, without bound.
 */
export const MAX_TRAIN_POINTS = 2000;

/**
 * Appends the newest point. Points are kept `stride` steps apart: a newer one closer than that to
 * the one before stands in for the newest until the gap is reached. Past MAX_TRAIN_POINTS every
 * other point goes and the stride doubles, so the curve stays evenly sampled from the first step.
 */
function addPoint(kept: readonly TrainPoint[], stride: number, p: TrainPoint): { points: TrainPoint[]; stride: number } {
  const n = kept.length;
  const provisional = n >= 2 && kept[n - 1]!.step - kept[n - 2]!.step < stride;
  const points = [...(provisional ? kept.slice(0, -1) : kept), p];
  if (points.length <= MAX_TRAIN_POINTS) return { points, stride };
  return { points: points.filter((_, i) => i % 2 === 0 || i === points.length - 1), stride: stride * 2 };
}

/** Applies one engine event; pure, so the store and the tests share it. */
export function reduceJobs(s: JobsState, ev: EngineEvent): JobsState {
  switch (ev.type) {
    case 'job':
      return withEntry(s, ev.job.id, ev.job.kind, (e) => ({ ...e, info: ev.job }));
    case 'progress': {
      const { type: _t, jobId, ...progress } = ev;
      return withEntry(s, jobId, undefined, (e) => ({ ...e, progress }));
    }
    case 'batch-file':
      return withEntry(s, ev.jobId, 'batch', (e) => {
        const files = e.files ?? [];
        const i = files.findIndex((f) => f.input === ev.file.input);
        const next = i < 0 ? [...files, ev.file] : files.map((f, j) => (j === i ? ev.file : f));
        return { ...e, files: next };
      });
    case 'train':
      return withEntry(s, ev.jobId, 'distill', (e) => {
        const t = e.train ?? { steps: ev.steps, points: [], stride: 1, val: [], stepsPerSec: 0, etaSec: 0 };
        const last = t.points[t.points.length - 1];
        const { points, stride } =
          last && last.step >= ev.step ? t : addPoint(t.points, t.stride, { step: ev.step, loss: ev.loss, lr: ev.lr });
        const val = ev.valPsnr === undefined ? t.val : [...t.val, { step: ev.step, psnr: ev.valPsnr }];
        return { ...e, train: { steps: ev.steps, points, stride, val, stepsPerSec: ev.stepsPerSec, etaSec: ev.etaSec } };
      });
    case 'notice':
      return s; // shown as a notice (events.ts), not kept with the job
    case 'upscale-done':
      return withEntry(s, ev.jobId, KIND_OF_EVENT[ev.type], (e) => ({ ...e, upscale: ev.result }));
    case 'batch-done':
      return withEntry(s, ev.jobId, KIND_OF_EVENT[ev.type], (e) => ({ ...e, batchSummary: ev.summary }));
    case 'distill-done':
      return withEntry(s, ev.jobId, KIND_OF_EVENT[ev.type], (e) => ({ ...e, model: ev.model }));
    case 'prune-done':
      return withEntry(s, ev.jobId, KIND_OF_EVENT[ev.type], (e) => ({ ...e, prune: ev.result }));
  }
}

/** Records a job the UI started with what it asked for (the call's answer may come after events). */
export function trackJob(s: JobsState, info: JobInfo, request: JobRequest): JobsState {
  return withEntry(s, info.id, info.kind, (e) => ({
    ...e,
    request,
    // Keep a state the events already moved on; the call's answer is older.
    info: s.jobs[info.id] ? { ...info, state: e.info.state, error: e.info.error } : info,
  }));
}

export const isActive = (e: JobEntry | undefined) =>
  !!e && (e.info.state === 'queued' || e.info.state === 'running' || e.info.state === 'paused');

/**
 * The newest job of a kind (the one its view shows). Upscales count only when this page started
 * them (their image is known); batch, prune and distillation jobs also when the engine already had
 * them (e.g. after a reload).
 */
export function latestJob(s: JobsState, kind: JobKind): JobEntry | undefined {
  for (let i = s.order.length - 1; i >= 0; i--) {
    const e = s.jobs[s.order[i]!];
    if (e?.info.kind === kind && (e.request || kind !== 'upscale')) return e;
  }
  return undefined;
}

/** Finished upscales of one source image, keyed `model@xN`. */
export function resultsFor(s: JobsState, imageId: string): Record<string, UpscaleResult> {
  const out: Record<string, UpscaleResult> = {};
  for (const id of s.order) {
    const e = s.jobs[id]!;
    if (e.request?.kind === 'upscale' && e.request.req.imageId === imageId && e.upscale) out[resultKey(e.upscale)] = e.upscale;
  }
  return out;
}

/** The newest upscale this page started for one image, model and scale. */
export function upscaleJobFor(s: JobsState, imageId: string, modelId: string | undefined, scale: number): JobEntry | undefined {
  for (let i = s.order.length - 1; i >= 0; i--) {
    const e = s.jobs[s.order[i]!]!;
    const r = e.request;
    if (r?.kind === 'upscale' && r.req.imageId === imageId && r.req.modelId === modelId && r.req.scale === scale) return e;
  }
  return undefined;
}

export const resultKey = (r: { modelId: string; scale: number }) => `${r.modelId}@x${r.scale}`;

interface JobsStore extends JobsState {
  apply(ev: EngineEvent): void;
  /** Several events in one store update (one render). */
  applyAll(evs: readonly EngineEvent[]): void;
  track(info: JobInfo, request: JobRequest): void;
  reset(): void;
}

export const useJobs = create<JobsStore>()((set) => ({
  ...emptyJobs,
  apply: (ev) => set((s) => reduceJobs(s, ev)),
  applyAll: (evs) => set((s) => evs.reduce(reduceJobs, s)),
  track: (info, request) => set((s) => trackJob(s, info, request)),
  reset: () => set(emptyJobs),
}));
