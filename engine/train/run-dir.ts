import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../io/atomic-write';
import { readSafetensors } from '../io/safetensors';
import { saveSafetensors } from '../io/checkpoint';
import { float32Tensor, type StateDict } from '../io/tensor';
import type { Shape } from '../graph/value';
import { ADAM_BUFFERS, type ParamSet } from './optim';

/**
 * A run folder: `config.json` (the resolved config), `checkpoints/step_NNNNNNN.safetensors`
 * (parameters, EMA and the optimizer's buffers under `params/`, `ema/`, `adam.m/`, `adam.v/` prefixes) with a
 * `.json` state beside it, and `latest.json` naming the newest complete checkpoint (written last,
 * atomically, so a kill mid-save leaves the previous checkpoint in charge).
 */

export interface TrainHistory {
  /** Loss of every step taken, index = step. */
  loss: number[];
  val: { step: number; psnr: number; ssim: number }[];
}

export interface TrainState {
  /** Steps completed. */
  step: number;
  /** Optimizer steps taken (Adam's `state['step']`; OBProx-SG's step counter). */
  adamStep: number;
  seed: number;
  /** Batches and augmentations are drawn from Rng.seeded(seed, stream, step): the seed is the whole RNG state. */
  rng: { seed: number; scheme: 'sfc32(seed, stream, step)' };
  /** Learning rate of the next step. */
  nextLr: number;
  history: TrainHistory;
  /** Training seconds so far (wall time of the step loop, across resumes). */
  elapsedSec: number;
}

export interface Checkpoint {
  state: TrainState;
  params: ParamSet;
  ema: ParamSet;
  /** The optimizer's per-parameter buffers by prefix (Adam: `adam.m`, `adam.v`; OBProx-SG: none). */
  buffers: ReadonlyMap<string, ParamSet>;
}

const KEEP = 2;

export async function writeRunConfig(dir: string, config: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeJsonAtomic(path.join(dir, 'config.json'), config, 1);
}

export async function readRunConfig(dir: string): Promise<unknown> {
  const file = path.join(dir, 'config.json');
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${file} (is ${dir} a training run folder?): ${(e as Error).message}`, { cause: e });
  }
}

export async function saveCheckpoint(dir: string, ck: Checkpoint, shapes: ReadonlyMap<string, Shape>): Promise<string> {
  const ckDir = path.join(dir, 'checkpoints');
  await mkdir(ckDir, { recursive: true });
  const name = `step_${String(ck.state.step).padStart(7, '0')}`;
  const sd: StateDict = new Map();
  for (const [prefix, set] of [['params', ck.params] as const, ['ema', ck.ema] as const, ...ck.buffers]) {
    for (const [key, data] of set) sd.set(`${prefix}/${key}`, float32Tensor(shapes.get(key) ?? [data.length], data));
  }
  await saveSafetensors(path.join(ckDir, `${name}.safetensors`), sd, { 'minisr.train-step': String(ck.state.step) });
  await writeJsonAtomic(path.join(ckDir, `${name}.json`), ck.state, 1);
  await writeJsonAtomic(path.join(dir, 'latest.json'), { checkpoint: `checkpoints/${name}` }, 1);
  // Keep the newest few; older ones only cost disk.
  const names = (await readdir(ckDir)).filter((n) => /^step_\d+\.json$/.test(n)).sort();
  for (const old of names.slice(0, -KEEP)) {
    const stem = old.replace(/\.json$/, '');
    await rm(path.join(ckDir, `${stem}.safetensors`), { force: true });
    await rm(path.join(ckDir, old), { force: true });
  }
  return path.join(ckDir, name);
}

/** The newest complete checkpoint of a run folder, with the optimizer buffers named by `buffers`; undefined when it has none yet. */
export async function loadLatestCheckpoint(
  dir: string,
  keys: readonly string[],
  buffers: readonly string[] = ADAM_BUFFERS,
): Promise<Checkpoint | undefined> {
  let latest: unknown;
  try {
    latest = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  // null or a list parses too: read the field only from an object
  const ref = typeof latest === 'object' && latest !== null ? (latest as { checkpoint?: unknown }).checkpoint : undefined;
  if (typeof ref !== 'string' || !/^checkpoints\/step_\d+$/.test(ref)) {
    throw new Error(`${dir}/latest.json: bad checkpoint reference ${JSON.stringify(ref ?? latest)}`);
  }
  const stem = path.join(dir, ref);
  const state = JSON.parse(await readFile(`${stem}.json`, 'utf8')) as TrainState;
  if (!Number.isInteger(state.step) || !Array.isArray(state.history?.loss)) throw new Error(`${stem}.json: not a training state`);
  const { tensors } = await readSafetensors(`${stem}.safetensors`);
  const pick = (prefix: string): ParamSet => {
    const out: ParamSet = new Map();
    for (const key of keys) {
      const t = tensors.get(`${prefix}/${key}`);
      if (!t || t.dtype !== 'float32')
        throw new Error(`${stem}.safetensors: no float32 tensor ${prefix}/${key} (checkpoint of another model?)`);
      out.set(key, t.data as Float32Array);
    }
    return out;
  };
  return { state, params: pick('params'), ema: pick('ema'), buffers: new Map(buffers.map((b) => [b, pick(b)])) };
}
