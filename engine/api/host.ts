import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { cpus, platform, tmpdir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import sharp from 'sharp';
import { IMPORTANCE_FILE } from '../compress/prune';
import { readImportanceReport, type ImportanceReport } from '../compress/importance';
import { paramCount } from '../compress/shrink';
import { saveSafetensors } from '../io/checkpoint';
import { extensionForFormat, isReadableExtension, outputFormatFor } from '../image/formats';
import { providerAvailability } from '../runtime/providers';
import { EP_CHOICES } from '../runtime/select';
import type { ExecutionProvider } from '../runtime/session';
import { MODELS_DIR } from '../upscale/model';
import { cardPathFor, readCard, type ModelCard } from '../zoo/card';
import { cardFromOnnx, weightsFromOnnx } from '../zoo/infer';
import { validateConfig, type ModelConfig } from '../zoo/registry';
import { isPresetName, PRESET_NAMES } from '../zoo/presets';
import { assertNotInput } from '../upscale/pipeline';
import { ImageStore, type ImageEntry } from './images';
import { JobManager } from './jobs';
import { ModelCatalog } from './models';
import { ForbiddenPathError, PathPolicy } from './paths';
import { planFromReport, summarizeReport } from './prune-summary';
import { renderRegion, type RenderedRegion } from './region';
import { SettingsStore } from './settings';
import { SpeedLog } from './speeds';
import { ValidationError } from './schema';
import type { BatchTask, DistillTask, PruneTask, UpscaleTask } from './tasks';
import type {
  BatchRequest,
  DirListing,
  DistillRequest,
  EngineApi,
  EngineEvent,
  ImageRef,
  ImageRegionQuery,
  JobInfo,
  ModelInfo,
  OutputFormat,
  PlanRequest,
  PlanResult,
  PruneRequest,
  PruneSummary,
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
}

const ALL_EPS = EP_CHOICES.filter((ep): ep is ExecutionProvider => ep !== 'auto');

/** OBProx-SG's base direction is plain SGD, which needs a far larger rate than Adam's (engine/compress/README.md). */
const PRUNE_LR = 1e-2;
/** A student config larger than this is refused (a typo such as num_feat 64000 would exhaust memory). */
const MAX_STUDENT_PARAMS = 50_000_000;

/** A run folder's name: what it trains, when, and a random tail. */
function runName(what: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${what}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** `{name}_{model}_x{scale}.{ext}` with the given values; what remains unsafe becomes `_`. */
export function outputName(template: string, v: { name: string; model: string; scale: number; ext: string }): string {
  const name = template.replace(/\{(name|model|scale|ext)\}/g, (_, k: keyof typeof v) => String(v[k]));
  return name.replace(/[\\/\u0000-\u001f]/g, '_');
}

export class EngineHost implements EngineApi {
  private constructor(
    private readonly opts: HostOptions,
    readonly paths: PathPolicy,
    readonly images: ImageStore,
    readonly settings: SettingsStore,
    readonly models: ModelCatalog,
    readonly jobs: JobManager,
    readonly speeds: SpeedLog,
  ) {}

  static async create(opts: HostOptions): Promise<EngineHost> {
    const paths = new PathPolicy();
    for (const r of opts.roots ?? []) await paths.allowRoot(r, 'write');
    const images = new ImageStore(opts.sessionDir ?? (await mkdtemp(join(tmpdir(), 'minisr-session-'))));
    await images.init();
    const settings = await SettingsStore.open(opts.configDir);
    const userModels = join(opts.configDir, 'models');
    await mkdir(userModels, { recursive: true });
    const models = new ModelCatalog(opts.modelsDir ?? MODELS_DIR, userModels);
    return new EngineHost(opts, paths, images, settings, models, opts.jobs ?? new JobManager(), await SpeedLog.open(opts.configDir));
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
    };
  }

  private fileName(input: string, modelId: string, scale: number, inputFormat: string): string {
    const format = outputFormatFor(inputFormat, this.settings.get().format);
    const stem = basename(input, extname(input));
    return outputName(this.settings.get().nameTemplate, {
      name: stem,
      model: modelId,
      scale,
      ext: extensionForFormat(format).replace(/^\./, ''),
    });
  }

  async startUpscale(req: UpscaleRequest): Promise<JobInfo> {
    const entry = this.images.get(req.imageId);
    const modelPath = await this.models.path(req.modelId);
    const output = await this.images.outputPath(this.fileName(entry.ref.name, req.modelId, req.scale, entry.ref.format));
    const task: UpscaleTask = { kind: 'upscale', input: entry.path, output, ...this.runOptions(modelPath, req.scale) };
    return this.jobs.start('upscale', `${entry.ref.name} x${req.scale} with ${req.modelId}`, task, async (r, jobId) => {
      const res = r as { output: string; passes: number; ep: string; millis: number; seconds: number; megapixels: number };
      const ref = await this.images.add(res.output, 'output');
      if (res.ep === 'cpu') await this.speeds.record(req.modelId, res.megapixels, res.seconds);
      return {
        type: 'upscale-done',
        jobId,
        result: { output: ref, modelId: req.modelId, scale: req.scale, passes: res.passes, ep: res.ep, millis: res.millis },
      };
    });
  }

  /** The files a batch covers: chosen files as they are, folders walked for readable images. */
  private async expand(req: BatchRequest): Promise<{ input: string; rel: string }[]> {
    const match = req.glob ? picomatch(req.glob, { basename: !req.glob.includes('/'), dot: false }) : undefined;
    const out: { input: string; rel: string }[] = [];
    const walk = async (dir: string, root: string) => {
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const p = join(dir, e.name);
        if (e.isDirectory() && req.recursive) await walk(p, root);
        else if (e.isFile() && isReadableExtension(p) && (!match || match(relative(root, p))))
          out.push({ input: p, rel: relative(root, p) });
      }
    };
    for (const raw of req.inputs) {
      const input = await this.paths.check(raw, 'read');
      const s = await stat(input).catch(() => undefined);
      if (!s) throw Object.assign(new Error(`${raw}: no such file or folder`), { code: 'not-found' });
      if (s.isDirectory()) await walk(input, input);
      else out.push({ input, rel: basename(input) });
    }
    return out;
  }

  async startBatch(req: BatchRequest): Promise<JobInfo> {
    const outputDir = await this.paths.check(req.outputDir, 'write');
    const modelPath = await this.models.path(req.modelId);
    const found = await this.expand(req);
    if (found.length === 0) throw Object.assign(new Error(`no images found in ${req.inputs.join(', ')}`), { code: 'not-found' });
    await mkdir(outputDir, { recursive: true });
    const files: BatchTask['files'][number][] = [];
    for (const f of found) {
      const fmt = extname(f.input).slice(1).toLowerCase().replace('jpg', 'jpeg') || 'png';
      const output = join(outputDir, dirname(f.rel), this.fileName(f.rel, req.modelId, req.scale, fmt));
      await mkdir(dirname(output), { recursive: true });
      const exists = await stat(output).then(
        () => true,
        () => false,
      );
      files.push({ input: f.input, output, skip: req.skipExisting && exists });
    }
    const task: BatchTask = { kind: 'batch', files, ...this.runOptions(modelPath, req.scale) };
    return this.jobs.start('batch', `${files.length} images x${req.scale} with ${req.modelId}`, task, async (r, jobId) => ({
      type: 'batch-done',
      jobId,
      summary: r as { done: number; failed: number; skipped: number },
    }));
  }

  /** The teacher as the training engine wants it: a listed model's file, or a file the user chose. */
  private async teacherConfig(req: DistillRequest): Promise<Record<string, string>> {
    const listed = (await this.models.list()).some((m) => m.id === req.teacher);
    if (listed) return { type: 'onnx', path: await this.models.path(req.teacher) };
    const path = await this.paths.check(req.teacher, 'read');
    if (/\.onnx$/i.test(path)) return { type: 'onnx', path };
    if (!req.teacherPreset)
      throw new ValidationError(
        'startDistill.params.0.teacherPreset',
        'a checkpoint teacher (.pth, .safetensors) needs its architecture preset, e.g. edsr-baseline',
      );
    return { type: 'preset', preset: req.teacherPreset, weights: path };
  }

  /** The student as a training config's model fields: a preset, or a zoo config checked here. */
  private studentModel(req: DistillRequest): { fields: Record<string, unknown>; name: string } {
    const field = 'startDistill.params.0';
    if ((req.student === undefined) === (req.studentConfig === undefined)) {
      throw new ValidationError(
        `${field}.student`,
        'give exactly one of student (a preset name) and studentConfig (a zoo config, e.g. from planCompression)',
      );
    }
    if (req.student !== undefined) {
      if (!isPresetName(req.student))
        throw new ValidationError(`${field}.student`, `unknown preset ${JSON.stringify(req.student)}; known: ${PRESET_NAMES.join(', ')}`);
      return { fields: { preset: req.student }, name: req.student };
    }
    let model: ModelConfig;
    try {
      model = validateConfig(req.studentConfig);
    } catch (e) {
      throw new ValidationError(`${field}.studentConfig`, (e as Error).message);
    }
    const params = paramCount(model);
    if (params > MAX_STUDENT_PARAMS)
      throw new ValidationError(`${field}.studentConfig`, `has ${params} parameters; a student may have at most ${MAX_STUDENT_PARAMS}`);
    return { fields: { model }, name: `${model.family}-student` };
  }

  async startDistill(req: DistillRequest): Promise<JobInfo> {
    const student = this.studentModel(req);
    const teacher = await this.teacherConfig(req);
    const dataDir = await this.paths.check(req.dataDir, 'read');
    const valDir = req.valDir !== undefined ? await this.paths.check(req.valDir, 'read') : undefined;
    const run = runName(student.name);
    const outDir = join(this.opts.configDir, 'runs', run);
    await mkdir(outDir, { recursive: true });
    const config = {
      ...student.fields,
      data: { dir: dataDir, kind: 'hr' },
      // About ten points on the validation curve, at most every 500 steps.
      ...(valDir ? { val: { dir: valDir, interval: Math.max(1, Math.min(500, Math.floor(req.steps / 10))) } } : {}),
      steps: req.steps,
      batch: req.batch,
      patch: req.patch,
      optim: { lr: req.lr },
      loss: { type: 'distill' },
      teacher,
      cacheDir: join(this.opts.configDir, 'cache'),
      threads: this.settings.get().threads,
      // The provider setting covers training too: a trial step decides, and auto falls back to the CPU.
      ep: this.settings.get().ep,
    };
    const task: DistillTask = { kind: 'distill', outDir, config };
    const teacherName = basename(req.teacher).replace(/\.(onnx|pth|pt|safetensors)$/i, '');
    return this.jobs.start('distill', `distil ${teacherName} into ${student.name} (${req.steps} steps)`, task, async (r, jobId) => {
      const res = r as { onnx: string; card: string };
      // The produced model joins the user's models, so every view can pick it.
      const id = `${run}-x${(await readCard(res.card)).scale}`;
      const userDir = this.models.userDir;
      await copyFile(res.card, join(userDir, `${id}.json`));
      await copyFile(res.onnx, join(userDir, `${id}.onnx`));
      const model = (await this.models.list()).find((m) => m.id === id);
      if (!model) throw new Error(`the distilled model ${id} could not be listed`);
      return { type: 'distill-done', jobId, model };
    });
  }

  /**
   * A prune teacher as init weights: a checkpoint the user chose (with its preset), or a listed
   * model whose ONNX initializers are written out as `<run>/teacher.safetensors`.
   */
  private async pruneTeacher(req: PruneRequest, outDir: string): Promise<Record<string, unknown>> {
    const field = 'startPrune.params.0';
    const listed = (await this.models.list()).some((m) => m.id === req.teacher);
    if (listed) {
      const onnx = await this.models.path(req.teacher);
      const bytes = await readFile(onnx);
      let card: ModelCard;
      try {
        card = existsSync(cardPathFor(onnx)) ? await readCard(cardPathFor(onnx)) : cardFromOnnx(bytes);
      } catch (e) {
        throw new ValidationError(
          `${field}.teacher`,
          `model ${req.teacher} has no model card, so its architecture is unknown: ${(e as Error).message}`,
        );
      }
      const weights = join(outDir, 'teacher.safetensors');
      await saveSafetensors(weights, weightsFromOnnx(bytes, card.config));
      return card.preset ? { preset: card.preset, init: { weights, preset: card.preset } } : { model: card.config, init: { weights } };
    }
    const path = await this.paths.check(req.teacher, 'read');
    if (/\.onnx$/i.test(path))
      throw new ValidationError(
        `${field}.teacher`,
        'an ONNX file that is not a listed model cannot be pruned: give a .pth or .safetensors checkpoint',
      );
    if (!req.teacherPreset)
      throw new ValidationError(
        `${field}.teacherPreset`,
        'a checkpoint teacher (.pth, .safetensors) needs its architecture preset, e.g. edsr-baseline',
      );
    if (!isPresetName(req.teacherPreset))
      throw new ValidationError(
        `${field}.teacherPreset`,
        `unknown preset ${JSON.stringify(req.teacherPreset)}; known: ${PRESET_NAMES.join(', ')}`,
      );
    return { preset: req.teacherPreset, init: { weights: path, preset: req.teacherPreset } };
  }

  async startPrune(req: PruneRequest): Promise<JobInfo> {
    const dataDir = await this.paths.check(req.dataDir, 'read');
    const valDir = req.valDir !== undefined ? await this.paths.check(req.valDir, 'read') : undefined;
    const outDir = join(this.opts.configDir, 'runs', runName('prune'));
    await mkdir(outDir, { recursive: true });
    try {
      const config = {
        ...(await this.pruneTeacher(req, outDir)),
        data: { dir: dataDir, kind: 'hr' },
        ...(valDir ? { val: { dir: valDir, interval: Math.max(1, Math.min(500, Math.floor(req.steps / 10))) } } : {}),
        steps: req.steps,
        batch: req.batch ?? 8,
        patch: req.patch ?? 32,
        optim: { type: 'obprox', lr: req.lr ?? PRUNE_LR, lambda: req.lambda },
        loss: { type: 'l1' },
        cacheDir: join(this.opts.configDir, 'cache'),
        threads: this.settings.get().threads,
        ep: this.settings.get().ep,
      };
      const task: PruneTask = { kind: 'prune', outDir, config };
      const teacherName = basename(req.teacher).replace(/\.(onnx|pth|pt|safetensors)$/i, '');
      return this.jobs.start('prune', `prune ${teacherName} (lambda ${req.lambda}, ${req.steps} steps)`, task, async (r, jobId) => {
        const result = r as PruneSummary;
        // planCompression may read what this host wrote.
        await this.paths.allowFile(result.reportPath, 'read');
        this.jobs.setOutput(jobId, result.reportPath);
        return { type: 'prune-done', jobId, result };
      });
    } catch (e) {
      await rm(outDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** A report planCompression may read: one in an allowed folder, or one a prune run of this app wrote. */
  private async reportPath(p: string): Promise<string> {
    try {
      return await this.paths.check(p, 'read');
    } catch (e) {
      if (!(e instanceof ForbiddenPathError)) throw e;
      const runs = await realpath(join(this.opts.configDir, 'runs')).catch(() => undefined);
      const real = await realpath(p).catch(() => undefined);
      const rel = runs && real ? relative(runs, real) : '..';
      if (basename(rel) === IMPORTANCE_FILE && !rel.startsWith('..') && !isAbsolute(rel)) return real!;
      throw e;
    }
  }

  private async loadReport(file: string, field: string): Promise<{ path: string; report: ImportanceReport }> {
    const path = await this.reportPath(file);
    try {
      return { path, report: await readImportanceReport(path) };
    } catch (e) {
      throw new ValidationError(field, (e as Error).message);
    }
  }

  async readPruneReport(file: string): Promise<PruneSummary> {
    const { path, report } = await this.loadReport(file, 'readPruneReport.params.0');
    return summarizeReport(report, path);
  }

  async planCompression(req: PlanRequest): Promise<PlanResult> {
    const field = 'planCompression.params.0';
    const { report: file, ...target } = req;
    if (target.params === undefined && target.feats === undefined && target.blocks === undefined && target.layers === undefined) {
      throw new ValidationError(field, 'give a target: params (a budget) and/or feats, blocks, layers');
    }
    const { report } = await this.loadReport(file, `${field}.report`);
    try {
      return planFromReport(report, target);
    } catch (e) {
      // shrink's messages start with the size they refuse; "no architecture within" is the budget's.
      const msg = (e as Error).message;
      const named = /^no architecture within/.test(msg) ? 'params' : /^(params|feats|blocks|layers|resScale)\b/.exec(msg)?.[1];
      throw new ValidationError(named ? `${field}.${named}` : field, msg);
    }
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
    const entry = this.images.get(imageId);
    const target = await this.paths.check(path, 'write');
    await assertNotInput(entry.path, target);
    const fmt = format ?? outputFormatFor(extname(target).slice(1).toLowerCase().replace('jpg', 'jpeg') || entry.ref.format);
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      if (fmt === entry.ref.format && quality === undefined) await copyFile(entry.path, tmp);
      else {
        let img = sharp(entry.path, { limitInputPixels: false });
        if (this.settings.get().keepMetadata) img = img.keepMetadata();
        await img.toFormat(fmt, quality !== undefined ? { quality } : {}).toFile(tmp);
      }
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
    await this.paths.allowFile(target, 'read');
    return target;
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
