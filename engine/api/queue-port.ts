import type { OutputFormat, QueueBatchStatus, QueueCheck } from './types';

/**
 * What the host needs of a job queue, so that sending a batch to `minisr worker`s is possible
 * without the API depending on one: engine/queue implements it over BullMQ, and the web server
 * and Electron hand it to the host. Without one, the queue calls say so.
 */

/** A batch the host planned (paths checked, outputs named by the settings) for the queue to run. */
export interface QueuedBatch {
  /** The model file, on storage every worker sees. */
  readonly modelPath: string;
  readonly scale: number;
  readonly format: OutputFormat | 'same';
  readonly quality: number;
  /** Tile edge in input pixels, or automatic. */
  readonly tile: number | 'auto';
  readonly keepMetadata: boolean;
  readonly skipExisting: boolean;
  readonly files: readonly { readonly input: string; readonly output: string }[];
}

export interface QueuePort {
  check(url: string): Promise<QueueCheck>;
  send(url: string, batch: QueuedBatch): Promise<QueueBatchStatus>;
  status(url: string, id: string): Promise<QueueBatchStatus>;
}
