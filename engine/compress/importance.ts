import { readFile, writeFile } from 'node:fs/promises';
import type { Shape } from '../graph/value';
import { loadStateDict } from '../io/checkpoint';
import { numel } from '../io/tensor';
import { bindWeights, modelParamShapes } from '../zoo/build';
import type { EDSRConfig } from '../zoo/edsr';
import { validateConfig, type ModelConfig } from '../zoo/registry';
import type { SwinIRConfig } from '../zoo/swinir';
import { isRegularized } from './obprox';

/**
 * Stage 1's analysis: what a (sparsified) model's weights say about which channels, layers and
 * blocks matter. Exact zeros (what OBProx-SG makes) decide what is dead; weight norms rank the rest.
 *
 * Gains are weight-only proxies for how much a residual branch can change the stream it adds to,
 * relative to the identity path's gain of 1: a 3x3 conv's operator norm is at most 3 ||W||_F
 * (Cauchy-Schwarz over the 9 taps), a linear layer's at most ||W||_F, ReLU/GELU ~1-Lipschitz.
 * No data is run: these rank, they do not measure.
 */

export const IMPORTANCE_SCHEMA = 'minisr.importance/1';

export interface LayerStats {
  key: string;
  shape: number[];
  params: number;
  zeros: number;
  sparsity: number;
  /** Per output channel (first axis): L1 norm and fraction of exact zeros. */
  outL1: number[];
  outZeroFraction: number[];
}

export interface ChannelReport {
  /** Channels of the shared feature stream (EDSR num_feat, SwinIR embed_dim). */
  count: number;
  /** False where the channel provably does not affect the output. */
  alive: boolean[];
  aliveCount: number;
  /** L1 norm of every weight that writes or reads the channel: the ranking for N_c. */
  l1: number[];
  /** Fraction of exact zeros among those weights. */
  zeroFraction: number[];
  /** Whether `alive` is exact (EDSR) or all-true because removing a channel is never exact (SwinIR: LayerNorm reads every channel). */
  exact: boolean;
}

export interface BranchReport {
  key: string;
  /** Upper-bound proxy of the branch's gain relative to the identity path (see the file comment). */
  gain: number;
  /** The branch output is exactly zero: the block is the identity and can be dropped. */
  dead: boolean;
}

export interface EdsrBlocks {
  family: 'edsr';
  /** Residual blocks (N_b); `innerAlive` counts live channels between conv1 and conv2. */
  blocks: (BranchReport & { innerAlive: number })[];
}

export interface SwinirStages {
  family: 'swinir';
  /** Residual groups (N_b); each with its Swin layers (N_l). A stage is dead when its closing conv is zero. */
  stages: (BranchReport & { layers: BranchReport[] })[];
}

export interface ImportanceReport {
  schema: typeof IMPORTANCE_SCHEMA;
  config: ModelConfig;
  params: number;
  zeros: number;
  /** zeros / params over every learnable tensor. */
  sparsity: number;
  /** Sparsity over the L1-regularised tensors (conv and linear weights). */
  weightSparsity: number;
  layers: LayerStats[];
  channels: ChannelReport;
  structure: EdsrBlocks | SwinirStages;
}

type Weights = ReadonlyMap<string, Float32Array>;

/** A weight tensor seen as [out, in, taps]. */
interface Mat {
  data: Float32Array;
  out: number;
  in: number;
  taps: number;
}

function mat(w: Weights, shapes: ReadonlyMap<string, Shape>, key: string): Mat {
  const shape = shapes.get(key)!;
  return { data: w.get(key)!, out: shape[0]!, in: shape[1]!, taps: shape.slice(2).reduce((a, b) => a * b, 1) };
}

function frob(m: Mat): number {
  let s = 0;
  for (const v of m.data) s += v * v;
  return Math.sqrt(s);
}

/** Per-channel sums of |w| and zero counts along the output (rows) or input (cols) axis, added into acc. */
function accumulate(
  m: Mat,
  axis: 'out' | 'in',
  acc: { l1: Float64Array; zeros: Float64Array; n: Float64Array },
  channels?: (i: number) => number,
): void {
  const { out, in: cin, taps, data } = m;
  for (let o = 0; o < out; o++)
    for (let i = 0; i < cin; i++) {
      const ch = axis === 'out' ? o : i;
      const c = channels ? channels(ch) : ch;
      for (let t = 0; t < taps; t++) {
        const v = data[(o * cin + i) * taps + t]!;
        acc.l1[c]! += Math.abs(v);
        if (v === 0) acc.zeros[c]!++;
        acc.n[c]!++;
      }
    }
}

function zeroRows(m: Mat): boolean[] {
  const rowLen = m.in * m.taps;
  return Array.from({ length: m.out }, (_, o) => m.data.subarray(o * rowLen, (o + 1) * rowLen).every((v) => v === 0));
}

function zeroCols(m: Mat): boolean[] {
  const z = new Array<boolean>(m.in).fill(true);
  for (let o = 0; o < m.out; o++)
    for (let i = 0; i < m.in; i++) for (let t = 0; t < m.taps; t++) if (m.data[(o * m.in + i) * m.taps + t] !== 0) z[i] = false;
  return z;
}

const allZero = (a: Float32Array) => a.every((v) => v === 0);

function layerStats(key: string, shape: Shape, data: Float32Array): LayerStats {
  const m: Mat = { data, out: shape[0]!, in: shape[1]!, taps: shape.slice(2).reduce((a, b) => a * b, 1) };
  const rowLen = m.in * m.taps;
  const outL1: number[] = [];
  const outZeroFraction: number[] = [];
  let zeros = 0;
  for (let o = 0; o < m.out; o++) {
    let l1 = 0;
    let z = 0;
    for (let j = o * rowLen; j < (o + 1) * rowLen; j++) {
      l1 += Math.abs(data[j]!);
      if (data[j] === 0) z++;
    }
    outL1.push(l1);
    outZeroFraction.push(z / rowLen);
    zeros += z;
  }
  return { key, shape: [...shape], params: data.length, zeros, sparsity: zeros / data.length, outL1, outZeroFraction };
}

/**
 * EDSR's feature stream is two streams sharing channel indices: B (conv_first's output plus every
 * block's conv2 output; read by each conv1 and by conv_after_body) and R = conv_after_body(B) +
 * conv_first's output (read by upsample.0). Shrinking num_feat removes index c from both, which
 * is exact iff in each stream the channel is never written (rows and biases zero: the channel is
 * identically 0) or never read (input columns zero).
 */
function edsrAnalysis(c: EDSRConfig, w: Weights, shapes: ReadonlyMap<string, Shape>): { channels: ChannelReport; structure: EdsrBlocks } {
  const C = c.num_feat;
  const m = (k: string) => mat(w, shapes, `${k}.weight`);
  const bias = (k: string) => w.get(`${k}.bias`)!;
  const first = m('conv_first');
  const after = m('conv_after_body');
  const up = m('upsample.0');
  const blockKeys = Array.from({ length: c.num_block }, (_, i) => `body.${i}`);
  const rowDead = (k: string) => {
    const rows = zeroRows(m(k));
    const b = bias(k);
    return rows.map((z, i) => z && b[i] === 0);
  };
  const firstDead = rowDead('conv_first');
  const afterDead = rowDead('conv_after_body');
  const conv2Dead = blockKeys.map((k) => rowDead(`${k}.conv2`));
  const conv1Cols = blockKeys.map((k) => zeroCols(m(`${k}.conv1`)));
  const afterCols = zeroCols(after);
  const upCols = zeroCols(up);
  const alive = Array.from({ length: C }, (_, ch) => {
    const bUnwritten = firstDead[ch]! && conv2Dead.every((d) => d[ch]);
    const bUnread = conv1Cols.every((z) => z[ch]) && afterCols[ch]!;
    const rUnwritten = firstDead[ch]! && afterDead[ch]!;
    const rUnread = upCols[ch]!;
    return !((bUnwritten || bUnread) && (rUnwritten || rUnread));
  });
  const acc = { l1: new Float64Array(C), zeros: new Float64Array(C), n: new Float64Array(C) };
  accumulate(first, 'out', acc);
  accumulate(after, 'out', acc);
  accumulate(after, 'in', acc);
  accumulate(up, 'in', acc);
  for (const k of blockKeys) {
    accumulate(m(`${k}.conv1`), 'in', acc);
    accumulate(m(`${k}.conv2`), 'out', acc);
  }
  const blocks = blockKeys.map((k) => {
    const w1 = m(`${k}.conv1`);
    const w2 = m(`${k}.conv2`);
    const rows1 = zeroRows(w1);
    const b1 = bias(`${k}.conv1`);
    const cols2 = zeroCols(w2);
    // Inner channel j is 0 after the ReLU when its conv1 row is zero and its bias <= 0, or unused when conv2 ignores it.
    const innerAlive = rows1.filter((z, j) => !((z && b1[j]! <= 0) || cols2[j])).length;
    return { key: k, gain: c.res_scale * 9 * frob(w1) * frob(w2), dead: innerAlive === 0 && allZero(bias(`${k}.conv2`)), innerAlive };
  });
  return { channels: channelReport(alive, acc, true), structure: { family: 'edsr', blocks } };
}

function channelReport(alive: boolean[], acc: { l1: Float64Array; zeros: Float64Array; n: Float64Array }, exact: boolean): ChannelReport {
  return {
    count: alive.length,
    alive,
    aliveCount: alive.filter(Boolean).length,
    l1: Array.from(acc.l1),
    zeroFraction: Array.from(acc.zeros, (z, i) => z / acc.n[i]!),
    exact,
  };
}

/**
 * SwinIR: each Swin layer adds two branches to its stream, attention (ending in attn.proj) and
 * MLP (fc1 -> GELU -> fc2); a layer whose both branches are exactly zero is the identity. A
 * residual group (stage) is conv(layers(x)) + x: a zero closing conv makes it the identity.
 * Channels are ranked but never declared dead: every LayerNorm reads all channels.
 */
function swinirAnalysis(
  c: SwinIRConfig,
  w: Weights,
  shapes: ReadonlyMap<string, Shape>,
): { channels: ChannelReport; structure: SwinirStages } {
  const C = c.embed_dim;
  const m = (k: string) => mat(w, shapes, `${k}.weight`);
  const bias = (k: string) => w.get(`${k}.bias`)!;
  const maxAbs = (k: string) => w.get(k)!.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  const acc = { l1: new Float64Array(C), zeros: new Float64Array(C), n: new Float64Array(C) };
  accumulate(m('conv_first'), 'out', acc);
  accumulate(m('conv_after_body'), 'in', acc);
  accumulate(m('conv_after_body'), 'out', acc);
  accumulate(m('upsample.0'), 'in', acc);
  const stages = c.depths.map((depth, i) => {
    const sk = `layers.${i}`;
    const layers = Array.from({ length: depth }, (_, j) => {
      const k = `${sk}.residual_group.blocks.${j}`;
      const qkv = m(`${k}.attn.qkv`);
      const proj = m(`${k}.attn.proj`);
      const fc1 = m(`${k}.mlp.fc1`);
      const fc2 = m(`${k}.mlp.fc2`);
      // qkv is [3C, C]: q, k and v rows read the stream; proj and fc2 rows write it.
      accumulate(qkv, 'in', acc);
      accumulate(proj, 'out', acc);
      accumulate(fc1, 'in', acc);
      accumulate(fc2, 'out', acc);
      const v: Mat = { data: qkv.data.subarray(2 * C * C), out: C, in: C, taps: 1 };
      const attnDead = allZero(proj.data) && allZero(bias(`${k}.attn.proj`));
      const mlpDead = (allZero(fc2.data) || (allZero(fc1.data) && allZero(bias(`${k}.mlp.fc1`)))) && allZero(bias(`${k}.mlp.fc2`));
      const gain = maxAbs(`${k}.norm1.weight`) * frob(v) * frob(proj) + maxAbs(`${k}.norm2.weight`) * frob(fc1) * frob(fc2);
      return { key: k, gain, dead: attnDead && mlpDead };
    });
    const conv = m(`${sk}.conv`);
    accumulate(conv, 'in', acc);
    accumulate(conv, 'out', acc);
    const gain = 3 * frob(conv) * layers.reduce((a, l) => a * (1 + l.gain), 1);
    return { key: sk, gain, dead: allZero(conv.data) && allZero(bias(`${sk}.conv`)), layers };
  });
  return { channels: channelReport(new Array<boolean>(C).fill(true), acc, false), structure: { family: 'swinir', stages } };
}

/** The importance report of a model's weights (every learnable parameter by its checkpoint key). */
export function analyzeImportance(config: ModelConfig, weights: Weights): ImportanceReport {
  const cfg = validateConfig(config);
  const shapes = modelParamShapes(cfg);
  for (const [key, shape] of shapes) {
    const d = weights.get(key);
    if (!d) throw new RangeError(`importance: no weights for ${key}`);
    if (d.length !== numel(shape)) throw new RangeError(`importance: ${key} has ${d.length} values, the model needs [${shape.join(', ')}]`);
  }
  let params = 0;
  let zeros = 0;
  let regParams = 0;
  let regZeros = 0;
  const layers: LayerStats[] = [];
  for (const [key, shape] of shapes) {
    const d = weights.get(key)!;
    const z = d.reduce((a, v) => (v === 0 ? a + 1 : a), 0);
    params += d.length;
    zeros += z;
    if (isRegularized(key, shape)) {
      regParams += d.length;
      regZeros += z;
      layers.push(layerStats(key, shape, d));
    }
  }
  if (cfg.family !== 'edsr' && cfg.family !== 'swinir')
    throw new RangeError(`importance: ${cfg.family} models cannot be pruned (EDSR and SwinIR can)`);
  const { channels, structure } = cfg.family === 'edsr' ? edsrAnalysis(cfg, weights, shapes) : swinirAnalysis(cfg, weights, shapes);
  return {
    schema: IMPORTANCE_SCHEMA,
    config: cfg,
    params,
    zeros,
    sparsity: zeros / params,
    weightSparsity: regParams ? regZeros / regParams : 0,
    layers,
    channels,
    structure,
  };
}

/** Loads a checkpoint (.pth / safetensors, strictly bound to the config) and analyses it. */
export async function importanceOfCheckpoint(config: ModelConfig, weightsPath: string): Promise<ImportanceReport> {
  const bound = bindWeights(config, await loadStateDict(weightsPath));
  return analyzeImportance(config, new Map([...bound].map(([k, t]) => [k, t.data as Float32Array])));
}

export async function writeImportanceReport(file: string, report: ImportanceReport): Promise<void> {
  await writeFile(file, JSON.stringify(report) + '\n');
}

/** Reads a report written by writeImportanceReport; anything else is rejected naming what is wrong. */
export async function readImportanceReport(file: string): Promise<ImportanceReport> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable JSON file: ${(e as Error).message}`, { cause: e });
  }
  try {
    return checkReport(raw);
  } catch (e) {
    throw new TypeError(`${file}: ${(e as Error).message}`, { cause: e });
  }
}

const isNums = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isBools = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'boolean');

function checkBranches(v: unknown, n: number, field: string): void {
  const ok =
    Array.isArray(v) &&
    v.length === n &&
    v.every(
      (b: Partial<BranchReport> | null) =>
        typeof b === 'object' && b !== null && typeof b.dead === 'boolean' && typeof b.gain === 'number' && Number.isFinite(b.gain),
    );
  if (!ok) throw new TypeError(`${field} must list ${n} entries with a boolean dead and a finite gain`);
}

/** What shrinking reads of a report, checked field by field (a report is a file anyone can edit). */
function checkReport(raw: unknown): ImportanceReport {
  const o = raw as Partial<ImportanceReport> | null;
  if (typeof o !== 'object' || o === null || o.schema !== IMPORTANCE_SCHEMA)
    throw new TypeError(`not an importance report (schema must be ${IMPORTANCE_SCHEMA})`);
  const config = validateConfig(o.config);
  if (config.family !== 'edsr' && config.family !== 'swinir')
    throw new TypeError(`importance reports describe EDSR or SwinIR models, not ${config.family}`);
  const C = config.family === 'edsr' ? config.num_feat : config.embed_dim;
  const ch = o.channels;
  if (!ch || !isBools(ch.alive, C) || !isNums(ch.l1, C) || !isNums(ch.zeroFraction, C))
    throw new TypeError(`channels must give alive, l1 and zeroFraction for each of the ${C} feature channels`);
  const s = o.structure;
  if (!s || s.family !== config.family) throw new TypeError(`structure must describe a ${config.family} model`);
  if (s.family === 'edsr') checkBranches(s.blocks, (config as EDSRConfig).num_block, 'structure.blocks');
  else {
    const depths = (config as SwinIRConfig).depths;
    checkBranches(s.stages, depths.length, 'structure.stages');
    s.stages.forEach((st, i) => checkBranches(st.layers, depths[i]!, `structure.stages[${i}].layers`));
  }
  // Counts are derived, not trusted.
  return { ...(o as ImportanceReport), config, channels: { ...ch, aliveCount: ch.alive.filter(Boolean).length } };
}
