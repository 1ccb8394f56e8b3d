import { readFile } from 'node:fs/promises';
import type { HostTensor, StateDict } from './tensor';
import type { PthOptions } from './pth';
import { CheckpointError, readPthLegacy, readPthZip } from './pth';
import { parseSafetensors, writeSafetensors } from './safetensors';

export type CheckpointFormat = 'pth-zip' | 'pth-legacy' | 'safetensors';

/** Legacy torch.save output starts with PROTO 2, LONG1 of 10 bytes, then the magic number. */
const LEGACY_PREFIX = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Identifies a checkpoint by its first bytes (never by file extension). */
export function detectFormat(bytes: Uint8Array): CheckpointFormat {
  if (bytes.length === 0) throw new CheckpointError('file is empty');
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'pth-zip';
  if (LEGACY_PREFIX.every((b, i) => bytes[i] === b)) return 'pth-legacy';
  if (bytes.length >= 9 && bytes[8] === 0x7b) return 'safetensors';
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new CheckpointError('the tar-based PyTorch format (before 0.4) is not supported');
  }
  const head = Buffer.from(bytes.subarray(0, 8)).toString('hex');
  throw new CheckpointError(`unrecognised checkpoint format (first bytes ${head}); expected a PyTorch .pth or safetensors file`);
}

/**
 * Loads the weights of a .pth (zip or legacy) or safetensors checkpoint. For .pth files,
 * `key` picks the entry holding the state dict (`params`, `params_ema`, ...); auto-detected if absent.
 */
export async function loadStateDict(source: string | Uint8Array, opts: PthOptions = {}): Promise<StateDict> {
  const bytes = typeof source === 'string' ? await readFile(source) : source;
  try {
    const format = detectFormat(bytes);
    if (format === 'pth-zip') return readPthZip(bytes, opts);
    if (format === 'pth-legacy') return readPthLegacy(bytes, opts);
    return parseSafetensors(bytes).tensors;
  } catch (e) {
    if (typeof source !== 'string') throw e;
    // Keep the error's class (callers may test it) and prefix the file it came from.
    if (e instanceof Error) e.message = `${source}: ${e.message}`;
    throw e;
  }
}

/** Saves a state dict (and string metadata) as safetensors, atomically. */
export function saveSafetensors(path: string, sd: StateDict, metadata: Record<string, string> = {}): Promise<void> {
  return writeSafetensors(path, sd, metadata);
}

export interface MatchOptions {
  /** Checkpoint keys the model does not need (e.g. recomputed buffers such as `attn_mask`). */
  ignore?: (key: string) => boolean;
}

/**
 * Strictly matches a checkpoint against the tensors a model expects: returns them in the
 * expected order, or throws one error listing every missing key, unexpected key and shape
 * mismatch. `ignore` only exempts checkpoint keys from being reported as unexpected.
 */
export function matchStateDict(expected: ReadonlyMap<string, readonly number[]>, sd: StateDict, opts: MatchOptions = {}): HostTensor[] {
  const missing: string[] = [];
  const mismatched: string[] = [];
  const out: HostTensor[] = [];
  for (const [key, shape] of expected) {
    const t = sd.get(key);
    if (!t) missing.push(key);
    else if (!sameShape(t.shape, shape)) mismatched.push(`${key}: checkpoint [${t.shape.join(', ')}], model [${shape.join(', ')}]`);
    else out.push(t);
  }
  const unexpected = [...sd.keys()].filter((k) => !expected.has(k) && !opts.ignore?.(k));
  if (missing.length || unexpected.length || mismatched.length) {
    const parts = [
      missing.length ? `missing keys (${missing.length}): ${missing.join(', ')}` : '',
      unexpected.length ? `unexpected keys (${unexpected.length}): ${unexpected.join(', ')}` : '',
      mismatched.length ? `shape mismatches (${mismatched.length}): ${mismatched.join('; ')}` : '',
    ];
    throw new CheckpointError(`state dict does not match the model: ${parts.filter(Boolean).join('. ')}`);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
