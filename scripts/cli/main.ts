import { Command } from 'commander';
import { benchGraphsCommand } from './commands/bench-graphs';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { modelsCommand } from './commands/models';
import { printSummary, upscaleCommand } from './commands/upscale';
import { benchCommand } from './commands/bench';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';
import { distillCommand } from './commands/distill';
import { pruneCommand } from './commands/prune';
import { compressCommand } from './commands/compress';
import { importCommand } from './commands/import';
import { workerCommand } from './commands/worker';
import { queueCommand } from './commands/queue';

/** The `minisr` CLI: this file only registers commands; each lives in ./commands/. */
const program = new Command('minisr')
  .description('Upscale photos with compact super-resolution models, and compress large SR models into compact ones.')
  .showHelpAfterError();

program.addCommand(modelsCommand());
program.addCommand(exportCommand());
program.addCommand(evalCommand());
program.addCommand(benchGraphsCommand());
program.addCommand(upscaleCommand());
program.addCommand(benchCommand());
program.addCommand(serveCommand());
program.addCommand(trainCommand());
program.addCommand(pruneCommand());
program.addCommand(compressCommand());
program.addCommand(distillCommand());
program.addCommand(importCommand());
program.addCommand(workerCommand());
program.addCommand(queueCommand(printSummary));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`minisr: ${(e as Error).message}`);
  process.exitCode = 1;
}
