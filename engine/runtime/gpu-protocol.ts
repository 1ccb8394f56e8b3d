import type { HostTensor } from '../io/tensor';
import type { EpChoice, EpReport } from './select';
import type { ExecutionProvider } from './session';

/**
 * Messages between the engine and its GPU process (`gpu-child.ts`). Plain data only: they are
 * structured-cloned (Node's `advanced` IPC serialization, or Electron's utility-process port).
 */

export interface RemoteOpenOptions {
  readonly ep: EpChoice;
  readonly threads?: number;
  readonly probe?: Readonly<Record<string, HostTensor>>;
  readonly autoOrder?: readonly ExecutionProvider[];
  /** The config folder's GPU speed verdicts (`speed-check.ts`); absent: no speed check. */
  readonly verdictsFile?: string;
}

export type ParentMessage =
  | { readonly type: 'open'; readonly id: number; readonly model: Uint8Array | string; readonly opts: RemoteOpenOptions }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly session: number;
      readonly feeds: Readonly<Record<string, HostTensor>>;
      readonly fetches?: readonly string[];
    }
  | { readonly type: 'release'; readonly id: number; readonly session: number };

export type ChildMessage =
  | { readonly type: 'opened'; readonly id: number; readonly session: number; readonly ep: ExecutionProvider; readonly report: EpReport }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Record<string, HostTensor> }
  | { readonly type: 'released'; readonly id: number }
  /** `report` is set when no provider could open the model (an ExecutionProviderError). */
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly report?: Omit<EpReport, 'used'> };
