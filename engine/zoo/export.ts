import path from 'node:path';
import { loadStateDict } from '../io/checkpoint';
import { bindWeights, exportOnnx } from './build';
import { CARD_METADATA_KEY, CARD_SCHEMA, sha256File, type ModelCard } from './card';
import { modelCost } from './count';
import { exportDynamicOnnx, isSizeIndependent } from './dynamic';
import { resolveArch, type ModelConfig } from './registry';

export interface ExportRequest {
  readonly config: ModelConfig;
  readonly preset?: string;
  /** A .pth (zip or legacy) or safetensors checkpoint in the family's official key layout. */
  readonly weightsPath: string;
  /** Square tile side for a static graph; absent: symbolic H/W where the family allows it, else 128. */
  readonly tile?: number;
}

export interface ExportedModel {
  readonly onnx: Uint8Array;
  readonly card: ModelCard;
}

export const DEFAULT_TILE = 128;

/** Loads and strictly binds the weights, then writes the graph with its model card in the metadata. */
export async function exportModel(req: ExportRequest): Promise<ExportedModel> {
  const arch = resolveArch(req.config);
  const config = arch.config;
  const weights = bindWeights(config, await loadStateDict(req.weightsPath));
  if (req.tile !== undefined && (!Number.isInteger(req.tile) || req.tile < 1 || req.tile % arch.inputMultiple !== 0)) {
    throw new RangeError(`tile must be a positive multiple of ${arch.inputMultiple} for ${config.family}, got ${req.tile}`);
  }
  const dynamic = req.tile === undefined && isSizeIndependent(config);
  const side = req.tile ?? Math.ceil(DEFAULT_TILE / arch.inputMultiple) * arch.inputMultiple;
  const cost = modelCost(config);
  const card: ModelCard = {
    schema: CARD_SCHEMA,
    ...(req.preset ? { preset: req.preset } : {}),
    config,
    scale: arch.scale,
    params: cost.params,
    flops: { at640x360: cost.flops640x360, perMegapixel: cost.flopsPerMegapixel },
    tile: dynamic ? 'dynamic' : { height: side, width: side },
    inputMultiple: arch.inputMultiple,
    weights: { file: path.basename(req.weightsPath), sha256: await sha256File(req.weightsPath) },
  };
  const metadata = { [CARD_METADATA_KEY]: JSON.stringify(card) };
  const onnx = dynamic
    ? exportDynamicOnnx(config, weights, metadata)
    : exportOnnx(config, weights, { height: side, width: side, metadata });
  return { onnx, card };
}
