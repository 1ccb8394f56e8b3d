import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { makeBatch, type Batch, type CropSpec, type TrainImage } from './crops';

/**
 * Batches prepared ahead of the training step. With `worker: true` a worker thread makes them
 * (the images are SharedArrayBuffer-backed, so it reads them without a copy) and at most
 * `prefetch` batches wait in the queue; otherwise they are made on demand in this thread.
 * Batches are a pure function of (seed, step), so both paths give identical data.
 */

export interface BatchSourceOptions {
  worker: boolean;
  /** Batches requested ahead of the one being consumed (the bounded queue's length). */
  prefetch?: number;
  /** The worker module (tests point it elsewhere). */
  workerEntry?: URL;
}

/** The worker is TypeScript: boot it through tsx's ESM loader, whatever started this process. */
function workerBootstrap(entryUrl: URL): string | undefined {
  let tsxApi: string;
  try {
    tsxApi = pathToFileURL(
      createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
  } catch {
    return undefined; // no tsx (a bundled app): batches are made in this thread
  }
  const entry = entryUrl.href;
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}

export class BatchSource {
  private readonly worker: Worker | undefined;
  private readonly requested = new Map<number, Promise<Batch>>();
  private readonly waiting: { step: number; resolve: (b: Batch) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  /** Set when the worker could not even load (e.g. a bundled app without tsx): batches are then made here. */
  private inThread = false;
  private delivered = false;

  constructor(
    private readonly images: readonly TrainImage[],
    private readonly spec: CropSpec,
    private readonly opts: BatchSourceOptions,
  ) {
    if (images.length === 0) throw new RangeError('BatchSource: no training images');
    if (!opts.worker) return;
    const boot = workerBootstrap(opts.workerEntry ?? new URL('./batch-worker.ts', import.meta.url));
    if (!boot) {
      this.inThread = true;
      return;
    }
    this.worker = new Worker(boot, { eval: true, workerData: { images, spec } });
    this.worker.on('message', (b: Batch) => {
      this.delivered = true;
      const w = this.waiting.shift();
      if (w?.step !== b.step) this.fail(new Error(`batch worker answered step ${b.step}, expected ${w?.step}`));
      else w.resolve(b);
    });
    this.worker.on('error', (e) => (!this.delivered && isLoadError(e) ? this.fallBack() : this.fail(e)));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`batch worker exited with code ${code}`));
    });
  }

  /** The batch for `step`; also queues the next `prefetch` steps. */
  get(step: number): Promise<Batch> {
    if (!this.worker || this.inThread) return Promise.resolve().then(() => makeBatch(this.images, this.spec, step));
    for (const s of this.requested.keys()) if (s < step) this.requested.delete(s);
    const ahead = this.opts.prefetch ?? 2;
    for (let s = step; s <= step + ahead; s++) if (!this.requested.has(s)) this.requested.set(s, this.request(s));
    const p = this.requested.get(step)!;
    this.requested.delete(step);
    return p;
  }

  async close(): Promise<void> {
    this.fail(new Error('batch source closed'));
    await this.worker?.terminate();
  }

  private request(step: number): Promise<Batch> {
    const p = this.failure
      ? Promise.reject(this.failure)
      : new Promise<Batch>((resolve, reject) => this.waiting.push({ step, resolve, reject }));
    p.catch(() => undefined); // prefetched batches nobody asks for must not raise unhandled rejections
    if (!this.failure) this.worker!.postMessage(step);
    return p;
  }

  private fallBack(): void {
    this.inThread = true;
    for (const w of this.waiting.splice(0)) {
      try {
        w.resolve(makeBatch(this.images, this.spec, w.step));
      } catch (e) {
        w.reject(e as Error);
      }
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }
}

function isLoadError(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_WORKER_PATH';
}
