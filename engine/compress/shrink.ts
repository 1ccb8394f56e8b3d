import { buildModel } from '../zoo/build';
import { countParams } from '../zoo/count';
import { resolveArch, validateConfig, type ModelConfig } from '../zoo/registry';
import type { ImportanceReport } from './importance';

/**
 * Stage 2: from an importance report and a target, the compact architecture (a plain zoo config).
 * The three sizes of the paper: N_c = feature channels (EDSR num_feat, SwinIR embed_dim),
 * N_b = blocks (EDSR residual blocks, SwinIR residual groups), N_l = layers per block (SwinIR
 * Swin layers per group; EDSR's blocks have a fixed two convs).
 *
 * The report bounds each size (alive channels, blocks and layers that are not the identity); a
 * size given explicitly is taken as is (within the bounds); the free sizes are searched: the
 * candidates within the budget and within `slack` (2%) of the largest of them compete, and the
 * shape closest to the teacher's proportions wins (the budget buys capacity, but not at any
 * shape). Without a budget, free sizes stay at their bounds. Parameters are counted on the built graph (engine/zoo/count)
 * at the student's scale: a x4 student's second upsample conv (a x3 one's wider conv) is in the budget.
 */

export interface ShrinkTarget {
  /** Parameter budget (learnable parameters, the zoo's count). */
  params?: number;
  feats?: number;
  blocks?: number;
  /** SwinIR only: Swin layers per group, the same in every group. */
  layers?: number;
  /** The student's upscale factor (default the teacher's): its upsampler counts against the budget. */
  scale?: 2 | 3 | 4;
  /** EDSR only: the student's res_scale (EDSRmini uses 2); default the teacher's. */
  resScale?: number;
  /** Channel counts searched are multiples of this (SwinIR: also of every head count). Default 4 for EDSR. */
  channelMultiple?: number;
  /** Candidates within this fraction of the largest that fits compete on shape (default 0.02). */
  slack?: number;
}

const SLACK = 0.02;

export interface ShrinkResult {
  config: ModelConfig;
  params: number;
  /** The sizes chosen: N_c, N_b and (SwinIR) N_l. */
  sizes: { feats: number; blocks: number; layers?: number };
  /** Upper bounds read from the report. */
  bounds: { feats: number; blocks: number; layers?: number };
  /** The most important channels and blocks by the report's ranking (indices into the teacher), for inspection or weight transfer. */
  keep: { channels: number[]; blocks: number[] };
}

const paramCache = new Map<string, number>();

/** Learnable parameters of a config, counted on its smallest graph. */
export function paramCount(config: ModelConfig): number {
  const key = JSON.stringify(config);
  let n = paramCache.get(key);
  if (n === undefined) {
    const m = resolveArch(config).inputMultiple;
    n = countParams(buildModel(config, { height: m, width: m }).graph);
    paramCache.set(key, n);
  }
  return n;
}

function topIndices(scores: readonly number[], n: number, eligible: (i: number) => boolean): number[] {
  return scores
    .map((s, i) => [s, i] as const)
    .filter(([, i]) => eligible(i))
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, n)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

function checkSize(name: string, v: number | undefined, bound: number, why: string): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  if (v > bound) throw new RangeError(`${name} ${v} exceeds what the report allows (${bound}: ${why})`);
}

interface Candidate {
  config: ModelConfig;
  sizes: ShrinkResult['sizes'];
  /** Distance of the shape's proportions from the teacher's (log ratios), for ties. */
  skew: number;
}

function range(lo: number, hi: number, step = 1): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

function lcmAll(xs: number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return xs.reduce((a, b) => (a * b) / gcd(a, b), 1);
}

function edsrCandidates(report: ImportanceReport, t: ShrinkTarget): { candidates: Candidate[]; bounds: ShrinkResult['bounds'] } {
  const teacher = report.config;
  if (teacher.family !== 'edsr' || report.structure.family !== 'edsr') throw new TypeError('edsr report expected');
  if (t.layers !== undefined) throw new RangeError('layers (N_l) applies to SwinIR only: an EDSR block is two convs');
  const bounds = { feats: report.channels.aliveCount, blocks: report.structure.blocks.filter((b) => !b.dead).length };
  checkSize('feats', t.feats, bounds.feats, 'alive feature channels');
  checkSize('blocks', t.blocks, bounds.blocks, 'residual blocks that are not the identity');
  const mult = t.channelMultiple ?? 4;
  const feats = t.feats !== undefined ? [t.feats] : t.params === undefined ? [bounds.feats] : range(mult, bounds.feats, mult);
  const blocks = t.blocks !== undefined ? [t.blocks] : t.params === undefined ? [bounds.blocks] : range(1, bounds.blocks);
  const candidates = feats.flatMap((f) =>
    blocks.map((b) => ({
      config: validateConfig({
        ...teacher,
        num_feat: f,
        num_block: b,
        res_scale: t.resScale ?? teacher.res_scale,
        upscale: t.scale ?? teacher.upscale,
      }),
      sizes: { feats: f, blocks: b },
      skew: Math.abs(Math.log(f / teacher.num_feat) - Math.log(b / teacher.num_block)),
    })),
  );
  return { candidates, bounds };
}

function swinirCandidates(report: ImportanceReport, t: ShrinkTarget): { candidates: Candidate[]; bounds: ShrinkResult['bounds'] } {
  const teacher = report.config;
  if (teacher.family !== 'swinir' || report.structure.family !== 'swinir') throw new TypeError('swinir report expected');
  if (t.resScale !== undefined) throw new RangeError('resScale applies to EDSR only');
  const stages = report.structure.stages;
  const liveStages = stages.filter((s) => !s.dead);
  const bounds = {
    feats: report.channels.aliveCount,
    blocks: liveStages.length,
    layers: Math.max(0, ...liveStages.map((s) => s.layers.filter((l) => !l.dead).length)),
  };
  checkSize('feats', t.feats, bounds.feats, 'feature channels');
  checkSize('blocks', t.blocks, bounds.blocks, 'residual groups that are not the identity');
  checkSize('layers', t.layers, bounds.layers, 'most Swin layers that are not the identity in a group');
  const headsOf = (n: number) => teacher.num_heads.slice(0, n);
  const mult = lcmAll([t.channelMultiple ?? 1, ...teacher.num_heads]);
  const feats = t.feats !== undefined ? [t.feats] : t.params === undefined ? [bounds.feats] : range(mult, bounds.feats, mult);
  const blocks = t.blocks !== undefined ? [t.blocks] : t.params === undefined ? [bounds.blocks] : range(1, bounds.blocks);
  const layers = t.layers !== undefined ? [t.layers] : t.params === undefined ? [bounds.layers] : range(1, bounds.layers);
  const teacherLayers = Math.max(...teacher.depths);
  const candidates: Candidate[] = [];
  for (const f of feats)
    for (const b of blocks)
      for (const l of layers) {
        const heads = headsOf(b);
        if (heads.some((h) => f % h !== 0)) {
          if (t.feats !== undefined) throw new RangeError(`feats ${f} must be a multiple of every head count (${heads.join(', ')})`);
          continue;
        }
        const logs = [Math.log(f / teacher.embed_dim), Math.log(b / teacher.depths.length), Math.log(l / teacherLayers)];
        candidates.push({
          config: validateConfig({
            ...teacher,
            embed_dim: f,
            depths: new Array<number>(b).fill(l),
            num_heads: heads,
            upscale: t.scale ?? teacher.upscale,
          }),
          sizes: { feats: f, blocks: b, layers: l },
          skew: Math.max(...logs) - Math.min(...logs),
        });
      }
  return { candidates, bounds };
}

/** The compact architecture for `target` (see the file comment for the rule). */
export function shrink(report: ImportanceReport, target: ShrinkTarget): ShrinkResult {
  if (target.params !== undefined && !(Number.isInteger(target.params) && target.params > 0))
    throw new RangeError(`params must be a positive integer, got ${target.params}`);
  if (target.channelMultiple !== undefined && !(Number.isInteger(target.channelMultiple) && target.channelMultiple > 0)) {
    throw new RangeError(`channelMultiple must be a positive integer, got ${target.channelMultiple}`);
  }
  if (target.slack !== undefined && !(target.slack >= 0 && target.slack < 1))
    throw new RangeError(`slack must be in [0, 1), got ${target.slack}`);
  const { candidates, bounds } = report.config.family === 'edsr' ? edsrCandidates(report, target) : swinirCandidates(report, target);
  const emptied = Object.entries(bounds).filter(([, n]) => n === 0);
  if (emptied.length > 0)
    throw new RangeError(
      `the report leaves no ${emptied.map(([k]) => k).join(' and no ')} (the prune run zeroed them all: prune with a smaller lambda)`,
    );
  const budget = target.params ?? Infinity;
  const fitting: (Candidate & { params: number })[] = [];
  let smallest = Infinity;
  for (const c of candidates) {
    const params = paramCount(c.config);
    smallest = Math.min(smallest, params);
    if (params <= budget) fitting.push({ ...c, params });
  }
  const most = Math.max(...fitting.map((c) => c.params));
  // Near the largest, shape matters more than the last few parameters: the least skewed wins.
  const best = fitting
    .filter((c) => c.params >= (1 - (target.slack ?? SLACK)) * most)
    .sort((a, b) => a.skew - b.skew || b.params - a.params)[0];
  if (!best) throw new RangeError(`no architecture within ${budget} parameters: the smallest allowed here has ${smallest}`);
  const channels = topIndices(report.channels.l1, best.sizes.feats, (i) => report.channels.alive[i] === true);
  const s = report.structure;
  const blockScores = s.family === 'edsr' ? s.blocks.map((b) => (b.dead ? -1 : b.gain)) : s.stages.map((st) => (st.dead ? -1 : st.gain));
  const blocks = topIndices(blockScores, best.sizes.blocks, (i) => blockScores[i]! >= 0);
  return { config: best.config, params: best.params, sizes: best.sizes, bounds, keep: { channels, blocks } };
}
