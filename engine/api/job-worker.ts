import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { modelFromOnnxFile, type UpscaleModel } from '../upscale/model';
import { upscaleFile, type UpscaleNotice, type UpscaleProgress } from '../upscale/pipeline';
import { SessionCache } from '../runtime/cache';
import { whenNativeIdle } from '../runtime/session';
import { setDefaultGpuSpawner } from '../runtime/gpu-process';
import { portSpawner } from '../runtime/gpu-relay';
import type { WorkerInput, WorkerMessage } from './jobs';
import type { WorkerTask, UpscaleTask, BatchTask } from './tasks';
import { checkpoint, isCancelled, JobCancelled } from './worker-control';

/** Runs one job's task off the main thread and streams its events back. */

const { task, control: sab, gpuPort } = workerData as WorkerInput & { task: WorkerTask };
const control = new Int32Array(sab);
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
// In the app, GPU processes come from the main thread (a training job's teacher pass included).
if (gpuPort) setDefaultGpuSpawner(portSpawner(gpuPort));

/** GPU sessions in a GPU process (a native abort there does not end this job), the speed verdicts in the config folder. */
function sessionCache(t: UpscaleTask | BatchTask, capacity: number): SessionCache {
  return new SessionCache(capacity, t.gpuVerdicts ? { verdictsFile: t.gpuVerdicts } : {});
}

/** The GPU was lost and the work goes on on the CPU: the UI shows it as a notice. */
function notice(n: UpscaleNotice): void {
  post({ type: 'event', event: { type: 'notice', message: n.file ? `${basename(n.file)}: ${n.message}` : n.message } });
}

function fileOptions(
  model: UpscaleModel,
  t: UpscaleTask | BatchTask,
  onProgress: (p: UpscaleProgress) => void,
  sessions = sessionCache(t, 4),
) {
  return {
    model,
    scale: t.scale,
    ep: t.ep,
    tile: t.tile > 0 ? t.tile : ('auto' as const),
    ...(t.threads > 0 ? { threads: t.threads } : {}),
    format: t.format,
    quality: t.quality,
    keepMetadata: t.keepMetadata,
    sessions,
    onProgress,
    onNotice: notice,
  };
}

async function runUpscale(t: UpscaleTask): Promise<unknown> {
  const model = await modelFromOnnxFile(t.modelPath);
  const t0 = performance.now();
  const r = await upscaleFile(
    t.input,
    t.output,
    fileOptions(model, t, (p) => {
      post({
        type: 'event',
        event: {
          type: 'progress',
          done: p.tilesDone,
          total: p.tilesTotal,
          megapixelsPerSec: p.megapixelsPerSec,
          etaSec: Number.isFinite(p.etaSec) ? p.etaSec : undefined,
          detail: `pass ${p.pass}/${p.passes}`,
        },
      });
      checkpoint(control);
    }),
  );
  // Model time only (no decode/encode), over input megapixels summed across passes: the picker's speed.
  return {
    output: r.output,
    passes: r.passes,
    ep: r.ep.used,
    millis: performance.now() - t0,
    seconds: r.seconds,
    megapixels: r.megapixelsPerSec * r.seconds,
  };
}

async function runBatch(t: BatchTask): Promise<unknown> {
  const model = await modelFromOnnxFile(t.modelPath);
  const sessions = sessionCache(t, 2);
  const summary = { done: 0, failed: 0, skipped: 0 };
  const t0 = performance.now();
  // The whole queue first, so the UI lists every file from the start.
  for (const f of t.files)
    post({ type: 'event', event: { type: 'batch-file', file: { input: f.input, output: f.output, state: 'queued' } } });
  for (const [i, f] of t.files.entries()) {
    checkpoint(control);
    if (f.skip) {
      summary.skipped++;
      post({
        type: 'event',
        event: { type: 'batch-file', file: { input: f.input, output: f.output, state: 'skipped', reason: 'output exists' } },
      });
      continue;
    }
    post({ type: 'event', event: { type: 'batch-file', file: { input: f.input, output: f.output, state: 'running' } } });
    try {
      await upscaleFile(
        f.input,
        f.output,
        fileOptions(
          model,
          t,
          (p) => {
            const done = i + p.tilesDone / p.tilesTotal;
            const sec = (performance.now() - t0) / 1000;
            post({
              type: 'event',
              event: {
                type: 'progress',
                done,
                total: t.files.length,
                megapixelsPerSec: p.megapixelsPerSec,
                etaSec: (sec / done) * (t.files.length - done),
                detail: f.input,
              },
            });
            checkpoint(control);
          },
          sessions,
        ),
      );
      summary.done++;
      post({ type: 'event', event: { type: 'batch-file', file: { input: f.input, output: f.output, state: 'done' } } });
    } catch (e) {
      if (e instanceof JobCancelled || isCancelled(control)) throw e;
      summary.failed++;
      post({ type: 'event', event: { type: 'batch-file', file: { input: f.input, state: 'failed', reason: (e as Error).message } } });
    }
    post({ type: 'event', event: { type: 'progress', done: i + 1, total: t.files.length, detail: f.input } });
  }
  return summary;
}

async function main(): Promise<unknown> {
  switch (task.kind) {
    case 'upscale':
      return runUpscale(task);
    case 'batch':
      return runBatch(task);
    case 'distill':
      return (await import('./distill-task')).runDistill(task, control, post);
    case 'prune':
      return (await import('./prune-task')).runPrune(task, control, post);
  }
}

// The parent ends this thread once it has the answer: let any onnxruntime call still running (a
// tile or step started before a cancel was seen) finish first, or its end aborts the whole process.
main().then(
  async (result) => {
    await whenNativeIdle();
    post({ type: 'done', result });
  },
  async (e: Error) => {
    await whenNativeIdle();
    post({ type: 'error', message: e.message, cancelled: e instanceof JobCancelled || isCancelled(control) });
  },
);
