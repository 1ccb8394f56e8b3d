import { Command, Option } from 'commander';
import { AUTO_ORDER } from '../../../engine/runtime/providers';
import type { EpChoice } from '../../../engine/runtime/select';
import { positiveInt } from '../table';

/** `minisr worker --queue redis://...`: runs queued upscale jobs until stopped (BullMQ loaded then, not with every command). */
export function workerCommand(): Command {
  return new Command('worker')
    .description('take upscale and training jobs from a Redis queue (minisr upscale|train|distill --queue) and run them')
    .requiredOption('--queue <redis-url>', 'redis://HOST:PORT[/DB]')
    .option('--concurrency <n>', 'jobs at a time (default 1: one job per GPU or CPU)', positiveInt('--concurrency'), 1)
    .addOption(new Option('--ep <provider>', 'execution provider').choices(['auto', ...AUTO_ORDER]).default('auto'))
    .option('--threads <n>', 'CPU threads per job (default: all cores)', positiveInt('--threads'))
    .option('--models <dir>', 'folder of shipped/imported models for -m ids (default: the bundled models)')
    .addOption(new Option('--stalled-interval <ms>', 'how often jobs of dead workers are looked for').argParser(Number))
    .addOption(new Option('--lock-duration <ms>', 'how long a job stays locked without its worker renewing it').argParser(Number))
    .action(
      async (o: {
        queue: string;
        concurrency: number;
        ep: EpChoice;
        threads?: number;
        models?: string;
        stalledInterval?: number;
        lockDuration?: number;
      }) => {
        const wopts = {
          url: o.queue,
          concurrency: o.concurrency,
          ep: o.ep,
          ...(o.threads ? { threads: o.threads } : {}),
          ...(o.models ? { modelsDir: o.models } : {}),
          ...(o.stalledInterval ? { stalledInterval: o.stalledInterval } : {}),
          ...(o.lockDuration ? { lockDuration: o.lockDuration } : {}),
          log: (l: string) => console.log(l),
        };
        const { startTrainWorker, startUpscaleWorker } = await import('../../../engine/queue/worker');
        const worker = startUpscaleWorker(wopts);
        const trainer = startTrainWorker(wopts);
        await Promise.all([worker.waitUntilReady(), trainer.worker.waitUntilReady()]);
        console.log(`worker ${process.pid} ready on ${o.queue}`);
        // First signal: finish the running jobs and leave; a second one leaves at once (the jobs go back to the queue).
        await new Promise<void>((res) => {
          const stop = (sig: NodeJS.Signals) => {
            console.log(`${sig}: finishing the running images, checkpointing the running training (again to leave now)`);
            process.once(sig, () => process.exit(130));
            void Promise.all([worker.close(), trainer.close()]).then(() => res());
          };
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
        console.log('worker stopped');
      },
    );
}
