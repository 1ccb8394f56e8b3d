import type { ImportanceReport } from '../compress/importance';
import { shrink, type ShrinkTarget } from '../compress/shrink';
import { modelCost } from '../zoo/count';
import { resolveArch } from '../zoo/registry';
import type { ArchSizes, PlanResult, PruneSummary, ZooConfig } from './types';

/** Stages 1 and 2 as the UI sees them: a prune report's summary, and a compact architecture for a target. */

function teacherSizes(r: ImportanceReport): ArchSizes {
  const c = r.config;
  if (c.family !== 'edsr' && c.family !== 'swinir') throw new TypeError(`a prune report of a ${c.family} model`);
  return c.family === 'edsr'
    ? { feats: c.num_feat, blocks: c.num_block }
    : { feats: c.embed_dim, blocks: c.depths.length, layers: Math.max(...c.depths) };
}

export function summarizeReport(r: ImportanceReport, reportPath: string): PruneSummary {
  const s = r.structure;
  const branches = s.family === 'edsr' ? s.blocks : s.stages;
  let bounds: ArchSizes | undefined;
  try {
    // No target: every size at the report's bound.
    bounds = shrink(r, {}).bounds;
  } catch {
    bounds = undefined; // nothing left alive to build
  }
  return {
    reportPath,
    family: r.config.family,
    params: r.params,
    zeros: r.zeros,
    sparsity: r.sparsity,
    weightSparsity: r.weightSparsity,
    layers: r.layers.map((l) => ({ key: l.key, sparsity: l.sparsity })),
    channels: { count: r.channels.count, alive: r.channels.aliveCount, exact: r.channels.exact },
    blocks: { count: branches.length, alive: branches.filter((b) => !b.dead).length },
    teacher: teacherSizes(r),
    ...(bounds ? { bounds } : {}),
  };
}

export function planFromReport(r: ImportanceReport, target: ShrinkTarget): PlanResult {
  const res = shrink(r, target);
  return {
    config: res.config as unknown as ZooConfig,
    scale: resolveArch(res.config).scale,
    params: res.params,
    teacherParams: r.params,
    gflops640x360: modelCost(res.config).flops640x360 / 1e9,
    sizes: res.sizes,
    bounds: res.bounds,
  };
}
