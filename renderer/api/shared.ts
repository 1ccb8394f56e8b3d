import type { RpcError } from '../../engine/api/rpc';
import type { ImageRegionQuery } from '../../engine/api/types';

/** Pieces both transports share; kept apart from client.ts so the transports don't import it back. */

/** A refused or failed call: `code` says why, `field` names the offending field when there is one. */
export class ApiError extends Error {
  readonly code: RpcError['code'];
  readonly field: string | undefined;
  constructor(error: RpcError) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    this.field = error.field;
  }
}

/** Query string of an image region, shared by both transports' URLs. */
export function regionSearch(q: ImageRegionQuery): URLSearchParams {
  const s = new URLSearchParams();
  for (const k of ['left', 'top', 'width', 'height', 'maxSide'] as const) {
    const v = q[k];
    if (v !== undefined) s.set(k, String(Math.round(v)));
  }
  if (q.resample) {
    s.set('resample', q.resample.kernel);
    s.set('scale', String(q.resample.scale));
  }
  if (q.format) s.set('format', q.format);
  return s;
}
