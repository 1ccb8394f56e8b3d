export type { OBProxPhase } from './obprox';
export { OBProx, isRegularized, l1Penalty, makeOBProx, obproxPhase } from './obprox';
export type { BranchReport, ChannelReport, EdsrBlocks, ImportanceReport, LayerStats, SwinirStages } from './importance';
export { IMPORTANCE_SCHEMA, analyzeImportance, importanceOfCheckpoint, readImportanceReport, writeImportanceReport } from './importance';
export type { ShrinkResult, ShrinkTarget } from './shrink';
export { paramCount, shrink } from './shrink';
export type { PruneEvent, PruneRequest, PruneResult } from './prune';
export { IMPORTANCE_FILE, resolvePruneConfig, runPruneJob } from './prune';
