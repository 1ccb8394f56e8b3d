import type {
  BatchRequest,
  DialogApi,
  DirListing,
  DistillRequest,
  EngineClient,
  EngineEvent,
  History,
  ImageRef,
  ImageRegionQuery,
  JobInfo,
  MenuAction,
  ModelInfo,
  PlanRequest,
  PlanResult,
  PruneRequest,
  PruneSummary,
  QueueBatchStatus,
  Settings,
  SystemInfo,
  UpscaleRequest,
} from '../../renderer/api/client';

/**
 * An EngineClient for component tests: answers calls from plain data, records what the UI asked
 * (calls, image URLs) and lets a test push engine events as the real engine would.
 */
export interface FakeClient extends EngineClient {
  readonly calls: { method: string; args: unknown[] }[];
  readonly imageQueries: ImageRegionQuery[];
  emit(ev: EngineEvent): void;
  /** A native menu item chosen (Electron). */
  menu(action: MenuAction): void;
}

export const MODELS: ModelInfo[] = [
  {
    id: 'edsr-baseline-x2',
    label: 'EDSR-baseline',
    family: 'edsr',
    preset: 'edsr-baseline',
    scale: 2,
    params: 1_369_859,
    gflopsPerMegapixel: 2745.2,
    cpuMegapixelsPerSec: 0.05,
    compact: false,
    source: 'shipped',
    psnr: { Set5: 37.34 },
  },
  {
    id: 'edsr-mini-x2',
    label: 'EDSRmini',
    family: 'edsr',
    preset: 'edsr-mini',
    scale: 2,
    params: 49_603,
    gflopsPerMegapixel: 101.1,
    cpuMegapixelsPerSec: 1.2,
    compact: true,
    source: 'shipped',
  },
];

export const SETTINGS: Settings = {
  ep: 'auto',
  tile: 0,
  threads: 0,
  keepMetadata: true,
  nameTemplate: '{name}_{model}_x{scale}.{ext}',
  format: 'png',
  quality: 90,
  theme: 'system',
  queueUrl: '',
};

export function fakeClient(
  opts: {
    models?: ModelInfo[];
    images?: Record<string, ImageRef>;
    dialogs?: DialogApi | null;
    /** What importModel returns (default: refuses). */
    imported?: ModelInfo;
    dirs?: Record<string, DirListing>;
    /** Jobs the engine already has when the page loads. */
    jobs?: JobInfo[];
    /** Answers planCompression (default: refuses, as an engine without the report would). */
    plan?: (req: PlanRequest) => PlanResult;
    /** Reports readPruneReport finds, by path. */
    reports?: Record<string, PruneSummary>;
    /** What getHistory answers (default: empty); clearHistory empties it. */
    history?: History;
    /**
     * The job queue: whether its Redis answers, and what successive status calls see of the batch
     * sent to it (sendBatchToQueue answers the first, each queueBatchStatus the next, the last repeats).
     */
    queue?: { reachable: boolean; statuses: QueueBatchStatus[] };
    /** Settings the engine has saved (over SETTINGS). */
    settings?: Partial<Settings>;
  } = {},
): FakeClient {
  const listeners = new Set<(e: EngineEvent) => void>();
  const menuListeners = new Set<(a: MenuAction) => void>();
  const calls: FakeClient['calls'] = [];
  const imageQueries: ImageRegionQuery[] = [];
  let settings = { ...SETTINGS, ...opts.settings };
  let history: History = opts.history ?? { images: [], batches: [] };
  let nextJob = 1;
  let nextImage = 1;
  let queuePolls = 0;
  const queueStatus = () => {
    const list = opts.queue?.statuses ?? [];
    if (list.length === 0) throw new Error('no queue is faked');
    return list[Math.min(queuePolls++, list.length - 1)]!;
  };
  const record = (method: string, args: unknown[]) => calls.push({ method, args });
  const job = (kind: JobInfo['kind'], title: string): JobInfo => ({ id: `job-${nextJob++}`, kind, state: 'running', title });
  const system: SystemInfo = {
    version: '0.1.0',
    platform: 'linux',
    cpus: 2,
    transport: 'websocket',
    providers: [
      { name: 'cpu', available: true },
      { name: 'cuda', available: false, reason: 'libcudart not found' },
    ],
  };
  return {
    transport: 'websocket',
    calls,
    imageQueries,
    emit: (ev) => listeners.forEach((cb) => cb(ev)),
    menu: (a) => menuListeners.forEach((cb) => cb(a)),
    onEvent(cb) {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
    onMenu(cb) {
      menuListeners.add(cb);
      return () => void menuListeners.delete(cb);
    },
    onOpen: () => () => {},
    openDropped: null,
    imageUrl(q) {
      imageQueries.push(q);
      return `fake://image/${q.imageId}?${new URLSearchParams(
        Object.entries(q)
          .filter(([k]) => k !== 'imageId')
          .map(([k, v]) => [k, JSON.stringify(v)]),
      )}`;
    },
    downloadUrl: (id) => `fake://download/${id}`,
    async uploadImage(file, name) {
      record('uploadImage', [name]);
      return { id: `img-${nextImage++}`, name, width: 640, height: 480, format: 'png', hasAlpha: false, bytes: file.size };
    },
    dialogs: opts.dialogs ?? null,
    systemInfo: async () => system,
    listModels: async () => opts.models ?? MODELS,
    async importModel(path: string) {
      record('importModel', [path]);
      if (!opts.imported) throw new Error(`${path}: importing is not faked`);
      return opts.imported;
    },
    getSettings: async () => settings,
    async setSettings(patch) {
      record('setSettings', [patch]);
      settings = { ...settings, ...patch };
      return settings;
    },
    async openImage(path) {
      record('openImage', [path]);
      const ref = opts.images?.[path];
      if (!ref) throw new Error(`not found: ${path}`);
      return ref;
    },
    async importImage(name) {
      record('importImage', [name]);
      return { id: `img-${nextImage++}`, name, width: 640, height: 480, format: 'png', hasAlpha: false, bytes: 1 };
    },
    async startUpscale(req: UpscaleRequest) {
      record('startUpscale', [req]);
      return job('upscale', `Upscale with ${req.modelId}`);
    },
    async startBatch(req: BatchRequest) {
      record('startBatch', [req]);
      return job('batch', `Batch of ${req.inputs.length} input(s)`);
    },
    async testQueue(url) {
      record('testQueue', [url]);
      return opts.queue?.reachable
        ? { reachable: true, detail: `Redis 7.0 answered at ${url}` }
        : { reachable: false, detail: `no answer from ${url}: connect ECONNREFUSED` };
    },
    async sendBatchToQueue(req: BatchRequest) {
      record('sendBatchToQueue', [req]);
      return queueStatus();
    },
    async queueBatchStatus(id) {
      record('queueBatchStatus', [id]);
      const s = queueStatus();
      if (s.id !== id) throw new Error(`no batch "${id}" in this queue`);
      return s;
    },
    async startDistill(req: DistillRequest) {
      record('startDistill', [req]);
      return job('distill', `Distil ${req.student}`);
    },
    async startPrune(req: PruneRequest) {
      record('startPrune', [req]);
      return job('prune', `Prune ${req.teacher}`);
    },
    async readPruneReport(path: string) {
      record('readPruneReport', [path]);
      const r = opts.reports?.[path];
      if (!r) throw new Error(`${path}: not allowed to read`);
      return r;
    },
    async planCompression(req: PlanRequest) {
      record('planCompression', [req]);
      if (!opts.plan) throw new Error(`no report at ${req.report}`);
      return opts.plan(req);
    },
    async pauseJob(id) {
      record('pauseJob', [id]);
      return { id, kind: 'distill', state: 'paused', title: '' };
    },
    async resumeJob(id) {
      record('resumeJob', [id]);
      return { id, kind: 'distill', state: 'running', title: '' };
    },
    async cancelJob(id) {
      record('cancelJob', [id]);
      return { id, kind: 'upscale', state: 'cancelled', title: '' };
    },
    listJobs: async () => opts.jobs ?? [],
    async saveImage(imageId, path) {
      record('saveImage', [imageId, path]);
      return path;
    },
    async browse(path) {
      record('browse', [path]);
      const l = opts.dirs?.[path ?? ''];
      if (!l) throw new Error(`not allowed: ${path}`);
      return l;
    },
    getHistory: async () => history,
    async clearHistory() {
      record('clearHistory', []);
      history = { images: [], batches: [] };
      return history;
    },
  };
}
