import type { EngineEvent, EngineMethod } from './types';

/**
 * The WebSocket wire format (JSON text frames). The renderer sends requests; the server answers
 * each by id and pushes engine events unasked. Errors carry a message meant for the user and,
 * for refused messages, the field that was wrong.
 */
export interface RpcRequest {
  readonly id: number;
  readonly method: EngineMethod;
  readonly params: readonly unknown[];
}

export interface RpcError {
  readonly message: string;
  /** 'bad-request' (shape), 'forbidden' (path outside the allowed roots), 'not-found', 'failed'. */
  readonly code: 'bad-request' | 'forbidden' | 'not-found' | 'failed';
  /** Dotted path of the offending field, e.g. `params.0.scale`. */
  readonly field?: string;
}

export type RpcResponse = { readonly id: number; readonly result: unknown } | { readonly id: number | null; readonly error: RpcError };

export interface RpcEventMessage {
  readonly event: EngineEvent;
}

export type ServerMessage = RpcResponse | RpcEventMessage;

/** Query-string keys of the region endpoint (web mode) and the `minisr-image://` protocol (Electron). */
export const REGION_PARAMS = ['left', 'top', 'width', 'height', 'maxSide', 'resample', 'scale', 'format'] as const;
