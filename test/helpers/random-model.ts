import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CARD_METADATA_KEY, CARD_SCHEMA, type ModelCard } from '../../engine/zoo/card';
import { modelCost } from '../../engine/zoo/count';
import { exportDynamicOnnx } from '../../engine/zoo/dynamic';
import { presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { resolveArch } from '../../engine/zoo/registry';

/**
 * Writes `<dir>/<id>.onnx`: a preset with *random* weights (runnable, not useful) and its model
 * card, for tests that need a fast model. Tests say so where they use it.
 */
export async function writeRandomModel(dir: string, id: string, preset = 'edsr-mini', seed = 1, scale?: number): Promise<string> {
  const config = presetConfig(preset, scale === undefined ? {} : { scale });
  const arch = resolveArch(config);
  const cost = modelCost(config);
  const card: ModelCard = {
    schema: CARD_SCHEMA,
    preset,
    config: arch.config,
    scale: arch.scale,
    params: cost.params,
    flops: { at640x360: cost.flops640x360, perMegapixel: cost.flopsPerMegapixel },
    tile: 'dynamic',
    inputMultiple: arch.inputMultiple,
  };
  const path = join(dir, `${id}.onnx`);
  await writeFile(path, exportDynamicOnnx(arch.config, randomWeights(arch.config, seed), { [CARD_METADATA_KEY]: JSON.stringify(card) }));
  return path;
}
