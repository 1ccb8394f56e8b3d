import { CONTROL_CANCEL, CONTROL_PAUSE } from './jobs';

/** Thrown inside a worker when its job was cancelled. */
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

/**
 * Called by a worker between tiles/steps: sleeps while the job is paused (this blocks only the
 * worker thread) and throws JobCancelled once it is cancelled.
 */
export function checkpoint(control: Int32Array): void {
  while (Atomics.load(control, 0) === CONTROL_PAUSE) Atomics.wait(control, 0, CONTROL_PAUSE);
  if (Atomics.load(control, 0) === CONTROL_CANCEL) throw new JobCancelled();
}

export function isCancelled(control: Int32Array): boolean {
  return Atomics.load(control, 0) === CONTROL_CANCEL;
}

/**
 * The shared flag as a training job's hooks: cancel becomes an AbortSignal (the trainer saves a
 * checkpoint first), pause a polled callback that the job maps onto the trainer's pause()/resume()
 * — the trainer awaits between steps, so the worker is never put to sleep. Call `stop` when done.
 */
export function trainControl(control: Int32Array): { signal: AbortSignal; isPaused: () => boolean; stop: () => void } {
  const abort = new AbortController();
  const watch = setInterval(() => {
    if (isCancelled(control)) abort.abort(new JobCancelled());
  }, 100);
  return { signal: abort.signal, isPaused: () => Atomics.load(control, 0) === CONTROL_PAUSE, stop: () => clearInterval(watch) };
}
