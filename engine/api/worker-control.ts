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
