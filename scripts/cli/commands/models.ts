import { Command } from 'commander';
import { modelCost } from '../../../engine/zoo/count';
import { PRESET_NAMES, presetConfig } from '../../../engine/zoo/presets';
import { resolveArch } from '../../../engine/zoo/registry';
import { formatTable, integer } from '../table';

/** `minisr models`: the presets with their size and cost (x2). */
export function modelsCommand(): Command {
  return new Command('models')
    .description('list model presets with parameters and FLOPs (2 x MACs of Conv/MatMul) at x2')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const rows = PRESET_NAMES.map((preset) => {
        const config = presetConfig(preset);
        return { preset, family: config.family, scale: resolveArch(config).scale, ...modelCost(config) };
      });
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const table = [['preset', 'family', 'scale', 'params', 'GFLOPs@640x360', 'GFLOPs/MP']];
      for (const r of rows)
        table.push([
          r.preset,
          r.family,
          `x${r.scale}`,
          integer(r.params),
          (r.flops640x360 / 1e9).toFixed(1),
          (r.flopsPerMegapixel / 1e9).toFixed(1),
        ]);
      console.log(formatTable(table));
      console.log('\nFLOPs = 2 x multiply-adds of Conv and MatMul (element-wise ops not counted); MP = 10^6 input pixels.');
    });
}
