/**
 * The engine API that every front end calls: the renderer through Electron IPC or through web
 * mode's WebSocket, and the CLI directly. One interface, plain JSON-serialisable messages, so
 * both transports carry the same calls and events. Paths only ever name files the user chose
 * (dialog, drop, CLI argument) or files the engine created; the host refuses anything else.
 */

export type EpChoice = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'avif' | 'tiff';

/** What `minisr import` takes: a checkpoint, an ONNX file, or a Keras/UpscalerJS model.json. */
export const MODEL_FILE_EXTENSIONS = ['pth', 'pt', 'safetensors', 'onnx'] as const;
const MODEL_FILE_NAME = new RegExp(`(^|[\\\\/])model\\.json$|\\.(${MODEL_FILE_EXTENSIONS.join('|')})$`, 'i');
/** Whether a file name or path is one a drop imports as a model (by name; the importer then checks the content). */
export const isModelFileName = (name: string) => MODEL_FILE_NAME.test(name);

/** Options of an import: the model's name, and the value range of an ONNX file that does not say. */
export interface ImportModelOptions {
  readonly name?: string;
  readonly range?: 1 | 255;
}

export interface ModelInfo {
  /** Stable id, e.g. `edsr-mini-x2`. */
  readonly id: string;
  readonly label: string;
  readonly family: string;
  readonly preset?: string;
  readonly scale: number;
  readonly params: number;
  readonly gflops640x360?: number;
  readonly gflopsPerMegapixel?: number;
  /** Measured CPU throughput on this machine, megapixels of input per second, when known. */
  readonly cpuMegapixelsPerSec?: number;
  /** Measured mean PSNR-Y (dB) by benchmark set, from the model card. */
  readonly psnr?: Readonly<Record<string, number>>;
  readonly compact: boolean;
  readonly source: 'shipped' | 'user';
  /** What the model is for, in one line (from its card). */
  readonly description?: string;
}

export interface Settings {
  readonly ep: EpChoice;
  /** Tile edge in input pixels; 0 = automatic. */
  readonly tile: number;
  /** Intra-op threads; 0 = all cores. */
  readonly threads: number;
  readonly keepMetadata: boolean;
  /** e.g. `{name}_{model}_x{scale}.{ext}` */
  readonly nameTemplate: string;
  readonly format: OutputFormat | 'same';
  readonly quality: number;
  readonly theme: 'system' | 'light' | 'dark';
  /** The Redis of `minisr worker`s that batches may be sent to (`redis://HOST:PORT[/DB]`); '' = none. */
  readonly queueUrl: string;
}

export interface SystemInfo {
  readonly version: string;
  readonly platform: string;
  readonly cpus: number;
  readonly providers: readonly { readonly name: string; readonly available: boolean; readonly reason?: string }[];
  /** How the front end reaches the engine. */
  readonly transport: 'ipc' | 'websocket';
}

/** An image the engine holds: an opened file or an upload, and outputs it produced. */
export interface ImageRef {
  readonly id: string;
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly hasAlpha: boolean;
  readonly bytes: number;
}

/** One folder's entries within the allowed roots (web mode has no native dialogs). */
export interface DirListing {
  /** The folder listed; null for the list of allowed roots. */
  readonly path: string | null;
  /** Its parent when that is still inside an allowed root. */
  readonly parent: string | null;
  readonly entries: readonly { readonly name: string; readonly path: string; readonly kind: 'dir' | 'image' }[];
}

export interface UpscaleRequest {
  readonly imageId: string;
  readonly modelId: string;
  /** 2, 4 or 8 (4 and 8 as repeated x2 passes). */
  readonly scale: number;
}

export interface UpscaleResult {
  readonly output: ImageRef;
  readonly modelId: string;
  readonly scale: number;
  readonly passes: number;
  readonly ep: string;
  readonly millis: number;
}

export interface BatchRequest {
  /** Files or folders the user chose. */
  readonly inputs: readonly string[];
  readonly modelId: string;
  readonly scale: number;
  readonly outputDir: string;
  readonly recursive: boolean;
  readonly glob?: string;
  readonly skipExisting: boolean;
}

export interface BatchFileStatus {
  readonly input: string;
  readonly output?: string;
  readonly state: 'queued' | 'running' | 'done' | 'failed' | 'skipped';
  readonly reason?: string;
}

/** Whether the queue's Redis answered (Settings → "Test connection"). */
export interface QueueCheck {
  readonly reachable: boolean;
  /** What answered, or why nothing did. */
  readonly detail: string;
}

/** One image of a batch sent to the queue: waiting, active (on a worker), or settled. */
export interface QueueFileStatus {
  readonly input: string;
  readonly state: 'waiting' | 'active' | 'done' | 'failed' | 'skipped';
  readonly output?: string;
  /** Why it failed (the engine's reason) or was skipped. */
  readonly reason?: string;
  /** The worker that did it. */
  readonly worker?: string;
}

/** A batch sent to the queue as it stands now; `id` finds it again (after a reload, or from `minisr queue status`). */
export interface QueueBatchStatus {
  readonly id: string;
  readonly title: string;
  readonly files: readonly QueueFileStatus[];
  readonly summary: { readonly done: number; readonly failed: number; readonly skipped: number; readonly pending: number };
  /** Every file done, failed or skipped. */
  readonly settled: boolean;
}

/** A zoo model config (engine/zoo/registry): `family` plus that family's options, e.g. num_feat, num_block. */
export type ZooConfig = { readonly family: string } & Readonly<Record<string, unknown>>;

export interface DistillRequest {
  /** A shipped model id, or a user-chosen `.pth`/`.onnx` path with `teacherPreset`. */
  readonly teacher: string;
  readonly teacherPreset?: string;
  /** The student: a preset name, or (exactly one of the two) a zoo config such as planCompression's. */
  readonly student?: string;
  readonly studentConfig?: ZooConfig;
  /** The student's scale (default: the teacher's). A teacher reaches it in one pass or in several: a x2 teacher serves x2 and x4, not x3. */
  readonly scale?: 2 | 3 | 4;
  readonly steps: number;
  readonly batch: number;
  readonly patch: number;
  readonly lr: number;
  readonly dataDir: string;
  readonly valDir?: string;
  /**
   * The student's start: `inherit` (sliced out of the teacher, as `minisr distill --init inherit`;
   * the default where the teacher and student are EDSR at one scale) or random weights (the
   * default otherwise, e.g. a x2 teacher run twice for a x4 student).
   */
  readonly init?: 'random' | 'inherit';
  /** With inheritance (explicit or default): the stage-1 importance.json that ranks the teacher's channels and blocks (default: the teacher's own weights). */
  readonly report?: string;
}

/** Stage 1 of compression: fine-tune the teacher with OBProx-SG (L1) and report what matters. */
export interface PruneRequest {
  /** A listed model id (its weights are read from the ONNX file), or a `.pth`/`.safetensors` path with `teacherPreset`. */
  readonly teacher: string;
  readonly teacherPreset?: string;
  readonly dataDir: string;
  readonly valDir?: string;
  readonly steps: number;
  /** The L1 weight: larger zeroes more. */
  readonly lambda: number;
  /** Defaults: batch 8, patch 32, lr 1e-2 (plain SGD steps need a far larger rate than Adam's). */
  readonly batch?: number;
  readonly patch?: number;
  readonly lr?: number;
}

/** Sizes of the paper: N_c feature channels, N_b blocks (EDSR residual blocks, SwinIR groups), N_l SwinIR layers per group. */
export interface ArchSizes {
  readonly feats: number;
  readonly blocks: number;
  readonly layers?: number;
}

/** What a finished prune run found (from its importance.json). */
export interface PruneSummary {
  /** The report, for planCompression. */
  readonly reportPath: string;
  readonly family: string;
  /** Teacher parameters and how many of them are now exactly zero. */
  readonly params: number;
  readonly zeros: number;
  readonly sparsity: number;
  /** Sparsity of the L1-regularised tensors (conv and linear weights). */
  readonly weightSparsity: number;
  readonly layers: readonly { readonly key: string; readonly sparsity: number }[];
  readonly channels: { readonly count: number; readonly alive: number; readonly exact: boolean };
  /** Blocks (EDSR residual blocks, SwinIR groups) that are not the identity, of all. */
  readonly blocks: { readonly count: number; readonly alive: number };
  readonly teacher: ArchSizes;
  /** The largest student the report allows (absent when nothing is left alive). */
  readonly bounds?: ArchSizes;
}

export interface PlanRequest {
  /** An importance.json from a prune run of this app, or one in an allowed folder. */
  readonly report: string;
  /** Parameter budget; free sizes are searched within it. */
  readonly params?: number;
  readonly feats?: number;
  readonly blocks?: number;
  readonly layers?: number;
  /** EDSR: the student's res_scale (EDSRmini uses 2). */
  readonly resScale?: number;
  /** The scale the student will be distilled at (default the teacher's): its upsampler counts in the budget. */
  readonly scale?: 2 | 3 | 4;
}

/** A compact architecture for a target (engine/compress shrink). */
export interface PlanResult {
  readonly config: ZooConfig;
  /** The student's scale, which its params and FLOPs are counted at. */
  readonly scale: number;
  readonly params: number;
  readonly teacherParams: number;
  readonly gflops640x360: number;
  readonly sizes: ArchSizes;
  readonly bounds: ArchSizes;
}

/** An image the user upscaled (from a file, not an upload) or saved, for the "Recent" list. */
export interface RecentImage {
  readonly path: string;
  readonly name: string;
  /** When it was recorded (ISO 8601). */
  readonly at: string;
  readonly action: 'upscaled' | 'saved';
  readonly modelId?: string;
  readonly scale?: number;
  /** The file is gone (set when the history is read). */
  readonly missing?: boolean;
}

/** A batch the user started, with its counts once it ended. */
export interface RecentBatch {
  /** The batch's job id. */
  readonly id: string;
  readonly inputs: readonly string[];
  readonly outputDir: string;
  readonly modelId: string;
  readonly scale: number;
  readonly at: string;
  readonly state: 'started' | 'finished' | 'failed' | 'cancelled';
  /** Files the batch found. */
  readonly files: number;
  readonly done?: number;
  readonly failed?: number;
  readonly skipped?: number;
  /** An input or the output folder is gone. */
  readonly missing?: boolean;
}

/** Recent images and batches, newest first, kept across restarts (`history.json` in the config folder). */
export interface History {
  readonly images: readonly RecentImage[];
  readonly batches: readonly RecentBatch[];
}

export type JobKind = 'upscale' | 'batch' | 'distill' | 'prune';
export type JobState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

export interface JobInfo {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly title: string;
  readonly error?: string;
  /** What a finished job produced for later calls (prune: its importance.json), so a reloaded page finds it. */
  readonly output?: string;
}

/** Events streamed from the engine to the front end. */
export type EngineEvent =
  | { readonly type: 'job'; readonly job: JobInfo }
  | {
      readonly type: 'progress';
      readonly jobId: string;
      readonly done: number;
      readonly total: number;
      readonly megapixelsPerSec?: number;
      readonly etaSec?: number;
      readonly detail?: string;
    }
  | { readonly type: 'batch-file'; readonly jobId: string; readonly file: BatchFileStatus }
  /** Something the user should know that does not stop the job (e.g. the GPU was lost: going on on the CPU). */
  | { readonly type: 'notice'; readonly jobId: string; readonly message: string }
  | {
      readonly type: 'train';
      readonly jobId: string;
      readonly step: number;
      readonly steps: number;
      readonly loss: number;
      readonly lr: number;
      readonly stepsPerSec: number;
      readonly etaSec: number;
      readonly valPsnr?: number;
    }
  | { readonly type: 'upscale-done'; readonly jobId: string; readonly result: UpscaleResult }
  | {
      readonly type: 'batch-done';
      readonly jobId: string;
      readonly summary: { readonly done: number; readonly failed: number; readonly skipped: number };
    }
  | { readonly type: 'distill-done'; readonly jobId: string; readonly model: ModelInfo }
  | { readonly type: 'prune-done'; readonly jobId: string; readonly result: PruneSummary };

/**
 * Request/response calls. Every method is async; long work returns a job id at once and
 * reports through events. Adding a call means adding it here, in the schema and in both hosts.
 */
export interface EngineApi {
  systemInfo(): Promise<SystemInfo>;
  listModels(): Promise<ModelInfo[]>;
  /** Imports a model the user chose (.pth/.pt/.safetensors, .onnx, model.json or its folder) into their models folder. */
  importModel(path: string, opts?: ImportModelOptions): Promise<ModelInfo>;
  getSettings(): Promise<Settings>;
  setSettings(patch: Partial<Settings>): Promise<Settings>;
  /** Registers an image from a path the user chose (Electron, CLI). */
  openImage(path: string): Promise<ImageRef>;
  /** Registers an uploaded image (web mode drop/paste/picker); bytes travel separately. */
  importImage(name: string, base64: string): Promise<ImageRef>;
  startUpscale(req: UpscaleRequest): Promise<JobInfo>;
  startBatch(req: BatchRequest): Promise<JobInfo>;
  /** Whether the Redis at this URL answers. */
  testQueue(url: string): Promise<QueueCheck>;
  /** Sends the batch to the queue of the `queueUrl` setting, one job per image, for `minisr worker`s to run. */
  sendBatchToQueue(req: BatchRequest): Promise<QueueBatchStatus>;
  /** Where a batch sent to the queue stands. */
  queueBatchStatus(id: string): Promise<QueueBatchStatus>;
  startDistill(req: DistillRequest): Promise<JobInfo>;
  /** Stage 1: a prune job; `train` events while it runs, `prune-done` with the report's summary. */
  startPrune(req: PruneRequest): Promise<JobInfo>;
  /** A prune report's summary (importance.json from this app's runs, or one in an allowed folder, e.g. from `minisr prune`). */
  readPruneReport(path: string): Promise<PruneSummary>;
  /** Stage 2: the compact architecture for a target, from a prune report. */
  planCompression(req: PlanRequest): Promise<PlanResult>;
  pauseJob(id: string): Promise<JobInfo>;
  resumeJob(id: string): Promise<JobInfo>;
  cancelJob(id: string): Promise<JobInfo>;
  listJobs(): Promise<JobInfo[]>;
  /** Writes an output image to a path the user chose (never over an original). */
  saveImage(imageId: string, path: string, format?: OutputFormat, quality?: number): Promise<string>;
  /** Lists the allowed roots (no path) or one folder inside them: folders and images only. */
  browse(path?: string): Promise<DirListing>;
  /** Recent images and batches (desktop: their files may be opened again without a dialog). */
  getHistory(): Promise<History>;
  clearHistory(): Promise<History>;
}

/** Names of the EngineApi calls: the wire protocols and the schema key on these. */
export const ENGINE_METHODS = [
  'systemInfo',
  'listModels',
  'importModel',
  'getSettings',
  'setSettings',
  'openImage',
  'importImage',
  'startUpscale',
  'startBatch',
  'testQueue',
  'sendBatchToQueue',
  'queueBatchStatus',
  'startDistill',
  'startPrune',
  'readPruneReport',
  'planCompression',
  'pauseJob',
  'resumeJob',
  'cancelJob',
  'listJobs',
  'saveImage',
  'browse',
  'getHistory',
  'clearHistory',
] as const satisfies readonly (keyof EngineApi)[];
export type EngineMethod = (typeof ENGINE_METHODS)[number];

/**
 * Pixels never travel through the call channel: each transport gives the renderer a URL for an
 * image region (web mode: `GET /api/images/:id?left&top&width&height&maxSide` on the loopback
 * server with the token; Electron: a privileged `minisr-image://` protocol), so the compare view
 * fetches only the visible region at the zoom it shows.
 */
export interface ImageRegionQuery {
  readonly imageId: string;
  readonly left?: number;
  readonly top?: number;
  readonly width?: number;
  readonly height?: number;
  /** Longest side of the returned bitmap; the region is downscaled to fit. */
  readonly maxSide?: number;
  /** 'bicubic' returns the region of the original upscaled by `scale` with bicubic (compare's left pane). */
  readonly resample?: { readonly scale: number; readonly kernel: 'bicubic' | 'nearest' };
  /** Encoding of the returned bitmap; default webp (png for pixel-exact views). */
  readonly format?: 'webp' | 'png';
}
