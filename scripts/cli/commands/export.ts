import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { cardPathFor, writeCard } from '../../../engine/zoo/card';
import { exportModel } from '../../../engine/zoo/export';
import { PRESET_NAMES, presetConfig } from '../../../engine/zoo/presets';
import { integer, positiveInt } from '../table';

interface ExportOptions {
  preset: string;
  weights: string;
  output: string;
  tile?: number;
  scale?: number;
}

/** `minisr export`: a checkpoint to ONNX, with its model card beside it. */
export function exportCommand(): Command {
  return new Command('export')
    .description('export a preset with checkpoint weights to ONNX (+ model card <output>.json)')
    .requiredOption('--preset <name>', `model preset (${PRESET_NAMES.join(', ')})`)
    .requiredOption('--weights <file>', 'checkpoint: .pth (BasicSR/official key names) or .safetensors')
    .requiredOption('-o, --output <file>', 'ONNX file to write')
    .option(
      '--tile <n>',
      'build a static graph for n x n inputs (default: symbolic H/W where the family allows it, else 128)',
      positiveInt('--tile'),
    )
    .option('--scale <n>', 'upscale factor (default 2)', positiveInt('--scale'))
    .action(async (opts: ExportOptions) => {
      if (!opts.output.toLowerCase().endsWith('.onnx')) throw new RangeError(`--output must end in .onnx, got ${opts.output}`);
      const config = presetConfig(opts.preset, opts.scale === undefined ? {} : { scale: opts.scale });
      const { onnx, card } = await exportModel({
        config,
        preset: opts.preset,
        weightsPath: opts.weights,
        ...(opts.tile ? { tile: opts.tile } : {}),
      });
      await writeFile(opts.output, onnx);
      const cardPath = cardPathFor(opts.output);
      await writeCard(cardPath, card);
      const tile = card.tile === 'dynamic' ? 'any H x W' : `${card.tile.height}x${card.tile.width}`;
      console.log(
        `wrote ${opts.output} (${(onnx.length / 1e6).toFixed(2)} MB, ${integer(card.params)} params, input ${tile}) and ${cardPath}`,
      );
    });
}
