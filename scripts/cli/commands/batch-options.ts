import type { BatchOptions } from '../../../engine/upscale/batch';
import type { UpscaleCliOptions } from './upscale';

/**
 * What `minisr upscale`'s flags say about the batch (outputs, names, formats, tiles), the same
 * for a local run and for the queue's producer; each adds its own model, provider and threads.
 * Its own module: upscale.ts imports the producer, which would otherwise import it back.
 */
export type BatchFields = Required<
  Pick<BatchOptions, 'scale' | 'format' | 'tile' | 'recursive' | 'template' | 'skipExisting' | 'keep16bit' | 'keepMetadata'>
> &
  Pick<BatchOptions, 'quality' | 'overlap' | 'outDir' | 'include'>;

export function batchOptionsFrom(opts: Omit<UpscaleCliOptions, 'ep' | 'threads' | 'queue'>): BatchFields {
  return {
    scale: opts.scale,
    format: opts.format,
    ...(opts.quality ? { quality: opts.quality } : {}),
    tile: opts.tile === 'auto' ? 'auto' : Number(opts.tile),
    ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}),
    ...(opts.out ? { outDir: opts.out } : {}),
    recursive: opts.recursive ?? false,
    ...(opts.include ? { include: opts.include } : {}),
    template: opts.template,
    skipExisting: opts.skipExisting ?? false,
    keep16bit: opts['8bit'] !== true,
    keepMetadata: opts.metadata,
  };
}
