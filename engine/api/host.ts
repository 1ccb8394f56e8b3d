import { copyFile, mkdir, mkdtemp, readdir, stat } from 'node:fs/promises';
import { cpus, platform, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { extensionForFormat, isReadableExtension, outputFormatFor } from '../image/formats';
import { providerAvailability } from '../runtime/providers';
import { EP_CHOICES } from '../runtime/select';
import { VERDICTS_FILE } from '../runtime/speed-check';
import type { ExecutionProvider } from '../runtime/session';
import { outputName } from '../upscale/batch';
import { MODELS_DIR } from '../upscale/model';
import { importModel, importSourceFiles } from '../importers/import-model';
import { batchFiles } from './batch-files';
import { HistoryStore } from './history';
import { ImageStore, type ImageEntry } from './images';
import { JobManager } from './jobs';
import { ModelCatalog } from './models';
import { PathPolicy } from './paths';
import type { QueuePort } from './queue-port';
import { planCompression, readPruneReport } from './prune-reports';
import { renderRegion, type RenderedRegion } from './region';
import { SettingsStore } from './settings';
import { SpeedLog } from './speeds';
import type { BatchTask, UpscaleTask } from './tasks';
import { startDistillJob, startPruneJob, type TrainingContext } from './training-requests';
import type {
  BatchRequest,
  DirListing,
  DistillRequest,
  EngineApi,
  EngineEvent,
  History,
  ImageRef,
  ImageRegionQuery,
  JobInfo,
  ImportModelOptions,
  ModelInfo,
  OutputFormat,
  PlanRequest,
  PlanResult,
  PruneRequest,
  PruneSummary,
  QueueBatchStatus,
  QueueCheck,
  Settings,
  SystemInfo,
  UpscaleRequest,
} from './types';

/**
 * The EngineApi over the engine, shared by web mode and Electron. Arguments arrive already
 * shape-checked (schema.ts); here every path is checked against the allow-list, and long work
 * goes to job workers.
 */

export interface HostOptions {
  /** settings.json and the user's models (`<configDir>/models`). */
  readonly configDir: string;
  readonly transport: SystemInfo['transport'];
  readonly version: string;
  /** Folders the user allowed (web mode `--root`), read and write. */
  readonly roots?: readonly string[];
  /** Shipped models; default the repository's `models/`. */
  readonly modelsDir?: string;
  /** Where uploads and outputs of this session go; default a fresh temporary folder. */
  readonly sessionDir?: string;
  readonly jobs?: JobManager;
  /** The job queue batches may be sent to (engine/queue's BullMQ one); without it, the queue calls refuse. */
  readonly queue?: QueuePort;
}

const ALL_EPS = EP_CHOICES.filter((ep): ep is ExecutionProvider => ep !== 'auto');

export class EngineHost implements EngineApi {
  private constructor(
    private readonly opts: HostOptions,
    readonly paths: PathPolicy,
    readonly images: ImageStore,
    readonly settings: SettingsStore,
    readonly models: ModelCatalog,
    readonly jobs: JobManager,
    readonly speeds: SpeedLog,
    readonly history: HistoryStore,
  ) {
    // A batch that ends without a summary still ends in the history.
    jobs.on('event', (e: EngineEvent) => {
      if (e.type === 'job' && e.job.kind === 'batch' && (e.job.state === 'failed' || e.job.state === 'cancelled'))
        this.remember(history.finishBatch(e.job.id, { state: e.job.state }));
    });
  }

  static async create(opts: HostOptions): Promise<EngineHost> {
    const paths = new PathPolicy();
    for (const r of opts.roots ?? []) await paths.allowRoot(r, 'write');
    const images = new ImageStore(opts.sessionDir ?? (await mkdtemp(join(tmpdir(), 'minisr-session-'))));
    await images.init();
    const settings = await SettingsStore.open(opts.configDir);
    const userModels = join(opts.configDir, 'models');
    await mkdir(userModels, { recursive: true });
    const models = new ModelCatalog(opts.modelsDir ?? MODELS_DIR, userModels);
    const jobs = opts.jobs ?? new JobManager();
    const history = await HistoryStore.open(opts.configDir);
    return new EngineHost(opts, paths, images, settings, models, jobs, await SpeedLog.open(opts.configDir), history);
  }

  /** Subscribes to engine events; returns the unsubscribe. */
  onEvent(cb: (e: EngineEvent) => void): () => void {
    this.jobs.on('event', cb);
    return () => this.jobs.off('event', cb);
  }

  async close(): Promise<void> {
    await this.jobs.close();
    await this.images.dispose();
  }

  async systemInfo(): Promise<SystemInfo> {
    return {
      version: this.opts.version,
      platform: `${platform()}-${process.arch}`,
      cpus: cpus().length,
      providers: ALL_EPS.map((ep) => {
        const a = providerAvailability(ep);
        return { name: ep, available: a.available, ...(a.reason ? { reason: a.reason } : {}) };
      }),
      transport: this.opts.transport,
    };
  }

  async listModels(): Promise<ModelInfo[]> {
    return (await this.models.list()).map((m) => {
      const speed = this.speeds.get(m.id);
      return speed === undefined ? m : { ...m, cpuMegapixelsPerSec: speed };
    });
  }

  async importModel(file: string, opts: ImportModelOptions = {}): Promise<ModelInfo> {
    const source = await this.paths.check(file, 'read');
    // A model.json names its weight shards: the user must have allowed each of them too.
    for (const f of await importSourceFiles(source)) await this.paths.check(f, 'read');
    const existingIds = new Set((await this.models.list()).map((m) => m.id));
    // Its package.json and LICENSE above are read only where the user allowed (else: default name, no licence).
    const mayRead = (f: string) => this.paths.allows(f, 'read');
    const { id } = await importModel({ source, modelsDir: this.models.userDir, existingIds, ...opts, mayRead });
    const info = (await this.listModels()).find((m) => m.id === id);
    if (!info) throw new Error(`${id}: imported, but the model list does not show it`);
    return info;
  }

  async getSettings(): Promise<Settings> {
    return this.settings.get();
  }

  setSettings(patch: Partial<Settings>): Promise<Settings> {
    return this.settings.update(patch);
  }

  async openImage(path: string): Promise<ImageRef> {
    return this.images.add(await this.paths.check(path, 'read'), 'opened');
  }

  importImage(name: string, base64: string): Promise<ImageRef> {
    return this.images.addUpload(name, Buffer.from(base64, 'base64'));
  }

  /** Raw upload bytes (web mode's upload endpoint). */
  uploadImage(name: string, bytes: Uint8Array): Promise<ImageRef> {
    return this.images.addUpload(name, bytes);
  }

  image(id: string): ImageEntry {
    return this.images.get(id);
  }

  region(q: ImageRegionQuery): Promise<RenderedRegion> {
    const e = this.images.get(q.imageId);
    return renderRegion(e.path, e.ref, q);
  }

  private runOptions(modelPath: string, scale: number): Omit<UpscaleTask, 'kind' | 'input' | 'output'> {
    const s = this.settings.get();
    return {
      modelPath,
      scale,
      ep: s.ep,
      tile: s.tile,
      threads: s.threads,
      format: s.format,
      quality: s.quality,
      keepMetadata: s.keepMetadata,
      gpuVerdicts: join(this.opts.configDir, VERDICTS_FILE),
    };
  }

  private fileName(input: string, modelId: string, scale: number, inputFormat: string): string {
    const format = outputFormatFor(inputFormat, this.settings.get().format);
    return outputName(this.settings.get().nameTemplate, input, modelId, scale, extensionForFormat(format).replace(/^\./, ''));
  }

  async startUpscale(req: UpscaleRequest): Promise<JobInfo> {
    const entry = this.images.get(req.imageId);
    const modelPath = await this.models.pathAt(req.modelId, req.scale);
    const output = await this.images.outputPath(this.fileName(entry.ref.name, req.modelId, req.scale, entry.ref.format));
    const task: UpscaleTask = { kind: 'upscale', input: entry.path, output, ...this.runOptions(modelPath, req.scale) };
    return this.jobs.start('upscale', `${entry.ref.name} x${req.scale} with ${req.modelId}`, task, async (r, jobId) => {
      const res = r as { output: string; passes: number; ep: string; millis: number; seconds: number; megapixels: number };
      const ref = await this.images.add(res.output, 'output');
      if (entry.origin === 'opened')
        this.remember(
          this.history.addImage({ path: entry.path, name: entry.ref.name, action: 'upscaled', modelId: req.modelId, scale: req.scale }),
        );
      if (res.ep === 'cpu') await this.speeds.record(req.modelId, res.megapixels, res.seconds);
      return {
        type: 'upscale-done',
        jobId,
        result: { output: ref, modelId: req.modelId, scale: req.scale, passes: res.passes, ep: res.ep, millis: res.millis },
      };
    });
  }

  async startBatch(req: BatchRequest): Promise<JobInfo> {
    const outputDir = await this.paths.check(req.outputDir, 'write');
    const modelPath = await this.models.pathAt(req.modelId, req.scale);
    const files = await batchFiles(req, outputDir, this.paths, (rel, fmt) => this.fileName(rel, req.modelId, req.scale, fmt));
    const task: BatchTask = { kind: 'batch', files, ...this.runOptions(modelPath, req.scale) };
    const job = this.jobs.start('batch', `${files.length} images x${req.scale} with ${req.modelId}`, task, async (r, jobId) => {
      const summary = r as { done: number; failed: number; skipped: number };
      this.remember(this.history.finishBatch(jobId, { state: 'finished', ...summary }));
      return { type: 'batch-done', jobId, summary };
    });
    const { inputs, modelId, scale } = req;
    this.remember(this.history.addBatch({ id: job.id, inputs, outputDir: req.outputDir, modelId, scale, files: files.length }));
    return job;
  }

  private queuePort(): QueuePort {
    if (!this.opts.queue) throw new Error('this build of MiniSR has no job queue: run batches here');
    return this.opts.queue;
  }

  async testQueue(url: string): Promise<QueueCheck> {
    return this.queuePort().check(url);
  }

  /** The batch planned as startBatch plans it (same files, outputs and settings), run by the queue's workers. */
  async sendBatchToQueue(req: BatchRequest): Promise<QueueBatchStatus> {
    const queue = this.queuePort();
    const url = this.settings.get().queueUrl;
    if (!url) throw Object.assign(new Error('no queue URL: set one in Settings → Queue'), { code: 'bad-request' });
    const outputDir = await this.paths.check(req.outputDir, 'write');
    const modelPath = await this.models.pathAt(req.modelId, req.scale);
    const files = await batchFiles(req, outputDir, this.paths, (rel, fmt) => this.fileName(rel, req.modelId, req.scale, fmt));
    const s = this.settings.get();
    return queue.send(url, {
      modelPath,
      scale: req.scale,
      format: s.format,
      quality: s.quality,
      tile: s.tile > 0 ? s.tile : 'auto',
      keepMetadata: s.keepMetadata,
      skipExisting: req.skipExisting,
      files: files.map((f) => ({ input: f.input, output: f.output })),
    });
  }

  async queueBatchStatus(id: string): Promise<QueueBatchStatus> {
    const queue = this.queuePort();
    const url = this.settings.get().queueUrl;
    if (!url) throw Object.assign(new Error('no queue URL: set one in Settings → Queue'), { code: 'bad-request' });
    return queue.status(url, id);
  }

  private get training(): TrainingContext {
    return { configDir: this.opts.configDir, models: this.models, paths: this.paths, settings: () => this.settings.get() };
  }

  startDistill(req: DistillRequest): Promise<JobInfo> {
    return startDistillJob(this.training, req, (task, title, run) =>
      this.jobs.start('distill', title, task, async (r, jobId) => {
        const res = r as { onnx: string; card: string };
        // The produced model joins the user's models, so every view can pick it; the run's name says its scale.
        const id = run;
        const userDir = this.models.userDir;
        await copyFile(res.card, join(userDir, `${id}.json`));
        await copyFile(res.onnx, join(userDir, `${id}.onnx`));
        const model = (await this.models.list()).find((m) => m.id === id);
        if (!model) throw new Error(`the distilled model ${id} could not be listed`);
        return { type: 'distill-done', jobId, model };
      }),
    );
  }

  startPrune(req: PruneRequest): Promise<JobInfo> {
    return startPruneJob(this.training, req, (task, title) =>
      this.jobs.start('prune', title, task, async (r, jobId) => {
        const result = r as PruneSummary;
        // planCompression may read what this host wrote.
        await this.paths.allowFile(result.reportPath, 'read');
        this.jobs.setOutput(jobId, result.reportPath);
        return { type: 'prune-done', jobId, result };
      }),
    );
  }

  readPruneReport(file: string): Promise<PruneSummary> {
    return readPruneReport(this.paths, this.opts.configDir, file);
  }

  planCompression(req: PlanRequest): Promise<PlanResult> {
    return planCompression(this.paths, this.opts.configDir, req);
  }

  async pauseJob(id: string): Promise<JobInfo> {
    return this.jobs.pause(id);
  }

  async resumeJob(id: string): Promise<JobInfo> {
    return this.jobs.resume(id);
  }

  async cancelJob(id: string): Promise<JobInfo> {
    return this.jobs.cancel(id);
  }

  async listJobs(): Promise<JobInfo[]> {
    return this.jobs.list();
  }

  async saveImage(imageId: string, path: string, format?: OutputFormat, quality?: number): Promise<string> {
    const target = await this.paths.check(path, 'write');
    await this.images.save(imageId, target, {
      ...(format ? { format } : {}),
      ...(quality !== undefined ? { quality } : {}),
      keepMetadata: this.settings.get().keepMetadata,
    });
    await this.paths.allowFile(target, 'read');
    this.remember(this.history.addImage({ path: target, name: basename(target), action: 'saved' }));
    return target;
  }

  /** A history write that fails is logged: it must not fail the upscale or save it records. */
  private remember(write: Promise<void>): void {
    write.catch((e: unknown) => console.warn(`history not saved: ${(e as Error).message}`));
  }

  /**
   * The desktop app lets the user reopen what the history lists, as the dialog that first chose
   * it did. Web mode grants nothing: its `--root` folders alone decide, so a page cannot reach
   * files that a desktop session once opened.
   */
  async getHistory(): Promise<History> {
    const history = await this.history.list();
    if (this.opts.transport !== 'ipc') return history;
    const grant = async (p: string, access: 'read' | 'write') => {
      const s = await stat(p).catch(() => undefined);
      if (s?.isDirectory()) await this.paths.allowRoot(p, access);
      else if (s?.isFile()) await this.paths.allowFile(p, access);
    };
    for (const i of history.images) if (!i.missing) await grant(i.path, 'read');
    for (const b of history.batches) {
      if (b.missing) continue;
      for (const input of b.inputs) await grant(input, 'read');
      await grant(b.outputDir, 'write');
    }
    return history;
  }

  async clearHistory(): Promise<History> {
    await this.history.clear();
    return this.history.list();
  }

  async browse(path?: string): Promise<DirListing> {
    if (path === undefined) {
      return { path: null, parent: null, entries: this.paths.rootList().map((p) => ({ name: p, path: p, kind: 'dir' as const })) };
    }
    const dir = await this.paths.check(path, 'read');
    const list = await readdir(dir, { withFileTypes: true });
    const entries = list
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isFile() && isReadableExtension(e.name))))
      .map((e) => ({ name: e.name, path: join(dir, e.name), kind: e.isDirectory() ? ('dir' as const) : ('image' as const) }))
      .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const parent = await this.paths.check(dirname(dir), 'read').then(
      (p) => (p === dir ? null : p),
      () => null,
    );
    return { path: dir, parent, entries };
  }
}
