import type { TrainQueueResult } from '../../../engine/queue/train-job';
import type { TrainFlags } from './train';

/**
 * `minisr distill|prune ... --queue URL`: the run goes to a `minisr worker`; this prints its
 * progress and outcome. The run folder is the run's state, so one that stopped resumes when
 * queued again. BullMQ is loaded here, on use, not with the CLI.
 */
export async function runOnQueue(
  url: string,
  f: TrainFlags,
  config: Record<string, unknown> | undefined,
  kind?: 'prune',
): Promise<TrainQueueResult | undefined> {
  if (!f.out || !config) throw new TypeError('--queue needs --out <run folder> (a run that stopped resumes on its own when queued again)');
  const { enqueueTraining, followTraining } = await import('../../../engine/queue/runs');
  const id = await enqueueTraining(url, f.out, config, kind);
  if (!f.json) console.error(`queued run ${id} (${f.out})`);
  let shown = 0;
  const o = await followTraining(url, id, (p) => {
    if (f.json) console.log(JSON.stringify({ type: 'progress', ...p }));
    else if (Date.now() - shown > 10_000 || p.step === p.totalSteps) {
      shown = Date.now();
      console.error(`step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}`);
    }
  });
  if (f.json) console.log(JSON.stringify({ type: 'result', ...o }));
  else if (o.state === 'failed') console.error(`failed: ${o.reason}`);
  else console.error(`done: ${o.result.step} steps on ${o.result.worker}${o.result.exported ? `; model ${o.result.exported.onnx}` : ''}`);
  if (o.state === 'failed') process.exitCode = 1;
  return o.state === 'done' ? o.result : undefined;
}
