import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { defaultConfigDir } from '../../../engine/api/config-dir';
import { ModelCatalog } from '../../../engine/api/models';
import { importModel } from '../../../engine/importers/import-model';
import { MODELS_DIR } from '../../../engine/upscale/model';
import { integer } from '../table';

/** `minisr import`: a model from elsewhere into the user's models folder, where every picker finds it. */
export function importCommand(): Command {
  return new Command('import')
    .description('import a .pth/.pt/.safetensors, .onnx or UpscalerJS model.json (file or folder) into your models folder')
    .argument('<source>', 'model file, or a folder holding model.json')
    .option(
      '--name <id>',
      'model name (default: the file name; for a model.json its npm package or folder, and scale, e.g. esrgan-slim-x2)',
    )
    .option('--range <1|255>', 'value range of an ONNX model that does not say (1: [0,1], 255: [0,255])', parseRange)
    .option('--models-dir <dir>', 'where to write (default: the models folder in MINISR_CONFIG_DIR or your config folder)')
    .action(async (source: string, opts: { name?: string; range?: 1 | 255; modelsDir?: string }) => {
      const modelsDir = opts.modelsDir ?? join(defaultConfigDir(), 'models');
      // A default name steers clear of the shipped models too (the user's are files in modelsDir).
      const existingIds = new Set((await new ModelCatalog(MODELS_DIR, modelsDir).list()).map((m) => m.id));
      const res = await importModel({
        source,
        modelsDir,
        existingIds,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.range ? { range: opts.range } : {}),
      });
      const { card } = res;
      console.log(`found:  ${card.imported?.architecture ?? 'model'}, x${card.scale}, ${integer(card.params)} parameters`);
      if (card.flops) console.log(`cost:   ${(card.flops.at640x360 / 1e9).toFixed(2)} GFLOPs for a 640x360 input`);
      console.log(`wrote:  ${res.modelPath}\n        ${res.cardPath}`);
      console.log(`use it: minisr upscale <image> --model ${res.modelPath} --scale ${card.scale}`);
    });
}

function parseRange(v: string): 1 | 255 {
  if (v === '1') return 1;
  if (v === '255') return 255;
  throw new InvalidArgumentError('must be 1 or 255');
}
