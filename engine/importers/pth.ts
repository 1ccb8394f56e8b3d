import { loadStateDict } from '../io/checkpoint';
import { CheckpointError } from '../io/pth';
import type { StateDict } from '../io/tensor';
import { bindWeights, exportOnnx } from '../zoo/build';
import { modelCost } from '../zoo/count';
import { exportDynamicOnnx, isSizeIndependent } from '../zoo/dynamic';
import { DEFAULT_TILE } from '../zoo/export';
import { resolveArch } from '../zoo/registry';
import { edsrBasicSR, edsrOfficial } from './edsr-layout';
import { rrdbnetBasicSR, rrdbnetESRGAN, rrdbnetESRGANRepo } from './rrdbnet-layout';
import { srvggCompact } from './srvgg-layout';
import { keyPrefixes, type TorchLayout } from './torch-layout';
import type { ImportedGraph } from './types';

/** Every PyTorch layout we read; the first that matches a file's keys converts it. */
export const TORCH_LAYOUTS: readonly TorchLayout[] = [
  rrdbnetBasicSR,
  rrdbnetESRGAN,
  rrdbnetESRGANRepo,
  srvggCompact,
  edsrOfficial,
  edsrBasicSR,
];

/**
 * A PyTorch (.pth/.pt, zip or legacy) or safetensors checkpoint of a known architecture as one of
 * our zoo families: the restricted unpickler reads it (nothing is executed), the layout is found
 * by its key names, hyper-parameters by tensor shapes, and the weights are bound strictly.
 */
export async function importTorch(bytes: Uint8Array): Promise<ImportedGraph> {
  const sd = await loadStateDict(bytes);
  return importStateDict(sd);
}

export function importStateDict(sd: StateDict): ImportedGraph {
  const layout = TORCH_LAYOUTS.find((l) => l.matches(sd));
  if (!layout) {
    throw new CheckpointError(
      `unknown architecture: the weights match none of ${TORCH_LAYOUTS.map((l) => l.architecture).join(', ')}; keys found: ${keyPrefixes(sd)}`,
    );
  }
  let graph: ImportedGraph;
  try {
    const { config, weights } = layout.convert(sd);
    const arch = resolveArch(config);
    const bound = bindWeights(arch.config, weights);
    const onnx = isSizeIndependent(arch.config)
      ? exportDynamicOnnx(arch.config, bound)
      : exportOnnx(arch.config, bound, { height: DEFAULT_TILE, width: DEFAULT_TILE });
    graph = {
      onnx,
      config: arch.config,
      scale: arch.scale,
      params: modelCost(arch.config).params,
      architecture: layout.architecture,
      margin: arch.receptiveRadius ?? DEFAULT_TILE / 4,
      inputMultiple: arch.inputMultiple,
    };
  } catch (e) {
    throw new CheckpointError(`looks like ${layout.architecture}, but ${(e as Error).message}`, { cause: e });
  }
  return graph;
}
