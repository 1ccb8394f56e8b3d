import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { defaultJobProcess, isGpuTraining, JobProcess, type JobProcessLink } from './job-runner';
import type { DistillTask, PruneTask } from './tasks';
import type { EngineEvent, JobInfo, JobKind, JobState } from './types';

/**
 * Jobs run one at a time (inference and training each want every core), each in its own worker
 * thread, so the process serving the UI never blocks. Pause and cancel go through a shared flag
 * the worker checks after every tile or step: a paused upscale sleeps on it (Atomics.wait), a paused
 * training run holds in the trainer's own pause() (it awaits between steps).
 */

export const CONTROL_RUN = 0;
export const CONTROL_PAUSE = 1;
export const CONTROL_CANCEL = 2;

/** What a worker posts back. `done` carries the kind-specific result the host turns into an event. */
export type WorkerMessage =
  | { readonly type: 'event'; readonly event: DistributiveOmit<EngineEvent, 'jobId'> }
  | { readonly type: 'done'; readonly result: unknown }
  | { readonly type: 'error'; readonly message: string; readonly cancelled: boolean };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface WorkerInput {
  readonly task: unknown;
  readonly control: SharedArrayBuffer;
  /** Where the worker asks for GPU processes when it cannot start them (Electron: `gpu-relay.ts`). */
  readonly gpuPort?: MessagePort;
}

export interface JobManagerOptions {
  /** Serves each job's GPU-process requests (the Electron app starts utility processes here). */
  readonly gpuHost?: (port: MessagePort) => void;
  /** Starts the process a training job on a GPU provider runs in; null: a worker thread. Default `defaultJobProcess()`. */
  readonly jobProcess?: (() => JobProcessLink) | null;
}

interface JobRecord {
  info: JobInfo;
  task: unknown;
  control: Int32Array;
  /** A worker thread, or for training on a GPU provider a process of its own. */
  worker?: Worker | JobProcess;
  /** Turns the worker's result into the final event (and registers outputs). */
  finish: (result: unknown, jobId: string) => Promise<EngineEvent | undefined>;
  /** Once started: settles when the job has ended and its worker is gone. */
  ended?: Promise<void>;
}

/** How long `close` waits for running jobs to answer their cancel before ending their workers anyway. */
const CLOSE_GRACE_MS = 30_000;

export class JobNotFoundError extends Error {
  readonly code = 'not-found';
}

export class JobStateError extends Error {
  readonly code = 'bad-request';
}

const WORKER_URL = new URL('./job-worker.mjs', import.meta.url);

export class JobManager extends EventEmitter<{ event: [EngineEvent] }> {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly queue: JobRecord[] = [];
  private running: JobRecord | undefined;
  private readonly jobProcess: (() => JobProcessLink) | null;

  constructor(
    private readonly workerUrl: URL = WORKER_URL,
    private readonly opts: JobManagerOptions = {},
  ) {
    super();
    this.jobProcess = opts.jobProcess === undefined ? defaultJobProcess() : opts.jobProcess;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => j.info);
  }

  get(id: string): JobInfo {
    return this.record(id).info;
  }

  /** Queues a task for the worker; `finish` maps its result to the closing event. */
  start(kind: JobKind, title: string, task: unknown, finish: JobRecord['finish']): JobInfo {
    const id = `${kind}-${randomBytes(6).toString('hex')}`;
    const rec: JobRecord = { info: { id, kind, state: 'queued', title }, task, control: new Int32Array(new SharedArrayBuffer(4)), finish };
    this.jobs.set(id, rec);
    this.queue.push(rec);
    this.emit('event', { type: 'job', job: rec.info });
    this.pump();
    return rec.info;
  }

  /** Records what a finishing job produced; the closing `job` event carries it. */
  setOutput(id: string, output: string): void {
    const rec = this.record(id);
    rec.info = { ...rec.info, output };
  }

  pause(id: string): JobInfo {
    const rec = this.record(id);
    if (rec.info.state !== 'running' && rec.info.state !== 'queued')
      throw new JobStateError(`job ${id} is ${rec.info.state}; only a running or queued job can be paused`);
    this.control(rec, CONTROL_PAUSE);
    return this.setState(rec, 'paused');
  }

  resume(id: string): JobInfo {
    const rec = this.record(id);
    if (rec.info.state !== 'paused') throw new JobStateError(`job ${id} is ${rec.info.state}; only a paused job can be resumed`);
    this.control(rec, CONTROL_RUN);
    const info = this.setState(rec, rec.worker ? 'running' : 'queued');
    this.pump();
    return info;
  }

  cancel(id: string): JobInfo {
    const rec = this.record(id);
    if (isFinal(rec.info.state)) return rec.info;
    this.control(rec, CONTROL_CANCEL);
    if (!rec.worker) {
      this.queue.splice(this.queue.indexOf(rec), 1);
      return this.setState(rec, 'cancelled');
    }
    // The worker stops at its next tile/step. A process stuck in a native call is killed after a
    // grace period; a thread is not (ending it inside the call would end this process too).
    const worker = rec.worker;
    if (worker instanceof JobProcess)
      setTimeout(() => {
        if (rec.worker === worker) void worker.terminate();
      }, 10_000).unref();
    return rec.info;
  }

  /**
   * Cancels everything and waits for the workers to exit. Each answers its cancel at its next tile
   * or step and is ended then; ending a worker thread inside an onnxruntime call aborts this whole
   * process ("terminate called after throwing an instance of 'Napi::Error'"), so terminating one
   * that has not answered is the last resort, after CLOSE_GRACE_MS.
   */
  async close(): Promise<void> {
    const running = [...this.jobs.values()].filter((r) => r.worker);
    for (const rec of this.jobs.values()) if (!isFinal(rec.info.state)) this.cancel(rec.info.id);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
    await Promise.race([Promise.all(running.map((r) => r.ended)), grace]);
    clearTimeout(timer);
    await Promise.all(running.flatMap((r) => (r.worker ? [r.worker.terminate()] : [])));
  }

  /** Sets the job's control word (shared with a worker thread, told to a job process) and wakes a sleeping worker. */
  private control(rec: JobRecord, value: number): void {
    Atomics.store(rec.control, 0, value);
    Atomics.notify(rec.control, 0);
    if (rec.worker instanceof JobProcess) rec.worker.control(value);
  }

  private record(id: string): JobRecord {
    const rec = this.jobs.get(id);
    if (!rec) throw new JobNotFoundError(`no job with id ${JSON.stringify(id)}`);
    return rec;
  }

  private setState(rec: JobRecord, state: JobState, error?: string): JobInfo {
    rec.info = { ...rec.info, state, ...(error !== undefined ? { error } : {}) };
    this.emit('event', { type: 'job', job: rec.info });
    return rec.info;
  }

  private pump(): void {
    if (this.running) return;
    const next = this.queue.find((r) => r.info.state === 'queued');
    if (!next) return;
    this.queue.splice(this.queue.indexOf(next), 1);
    this.running = next;
    this.run(next);
  }

  private run(rec: JobRecord): void {
    const isolated = this.jobProcess !== null && isGpuTraining(rec.task);
    const gpu = this.opts.gpuHost && !isolated ? new MessageChannel() : undefined;
    if (gpu) this.opts.gpuHost!(gpu.port1);
    const input: WorkerInput = { task: rec.task, control: rec.control.buffer as SharedArrayBuffer, ...(gpu ? { gpuPort: gpu.port2 } : {}) };
    const worker = isolated
      ? new JobProcess(this.jobProcess!(), rec.task as DistillTask | PruneTask)
      : new Worker(this.workerUrl, { workerData: input, ...(gpu ? { transferList: [gpu.port2] } : {}) });
    rec.worker = worker;
    this.setState(rec, 'running');
    let settled = false;
    let finishing = false;
    let gone!: () => void;
    rec.ended = new Promise<void>((resolve) => (gone = resolve));
    const end = (state: JobState, error?: string, final?: EngineEvent) => {
      if (settled) return;
      settled = true;
      rec.worker = undefined;
      if (final) this.emit('event', final);
      this.setState(rec, state, error);
      this.running = undefined;
      // Safe now: a worker answers only once its native calls are done (job-worker.ts).
      void worker.terminate().finally(gone);
      this.pump();
    };
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'event') this.emit('event', { ...msg.event, jobId: rec.info.id } as EngineEvent);
      else if (msg.type === 'error') end(msg.cancelled ? 'cancelled' : 'failed', msg.cancelled ? undefined : msg.message);
      else {
        finishing = true;
        rec.finish(msg.result, rec.info.id).then(
          (ev) => end('done', undefined, ev),
          (e: Error) => end('failed', e.message),
        );
      }
    });
    worker.on('error', (e) => end('failed', `worker crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (finishing) return;
      if (Atomics.load(rec.control, 0) === CONTROL_CANCEL) end('cancelled');
      else end('failed', `worker exited (code ${code}) before finishing`);
    });
  }
}

function isFinal(s: JobState): boolean {
  return s === 'done' || s === 'failed' || s === 'cancelled';
}
