import type { ChildMessage, ParentMessage } from './gpu-protocol';
import { parentChannel } from './parent-channel';
import { ExecutionProviderError, openSession } from './select';
import type { ModelSession } from './session';
import { VerdictFile } from './speed-check';

/**
 * The GPU process: opens sessions on GPU providers and runs them for the engine. A GPU driver
 * that aborts (a native crash, not an exception) ends only this process; the engine sees it exit
 * and carries on on the CPU (`gpu-process.ts`). Started by Node's `fork` (CLI, web mode) or as
 * an Electron utility process (the packaged app, where RunAsNode is fused off).
 */

const parent = parentChannel<ChildMessage, ParentMessage>();
const send = (m: ChildMessage) => parent.send(m);

/**
 * Test-only fault, set in this process's environment by the test that spawns it (never from
 * user input): `abort[:N]` aborts the process at the Nth run, `device-lost[:N]` fails the Nth
 * run as a lost WebGPU device does. N defaults to 1.
 */
function parseFault(spec: string | undefined): { kind: 'abort' | 'device-lost'; at: number } | undefined {
  const m = /^(abort|device-lost)(?::(\d+))?$/.exec(spec ?? '');
  return m ? { kind: m[1] as 'abort' | 'device-lost', at: Number(m[2] ?? 1) } : undefined;
}
const fault = parseFault(process.env.MINISR_GPU_FAULT);

const sessions = new Map<number, ModelSession>();
let nextSession = 1;
let runs = 0;

async function handle(msg: ParentMessage): Promise<ChildMessage> {
  switch (msg.type) {
    case 'open': {
      const { verdictsFile, ...opts } = msg.opts;
      const { session, report } = await openSession(msg.model, {
        ...opts,
        ...(verdictsFile ? { speedCheck: { store: new VerdictFile(verdictsFile) } } : {}),
      });
      const id = nextSession++;
      sessions.set(id, session);
      return { type: 'opened', id: msg.id, session: id, ep: session.ep, report };
    }
    case 'run': {
      const session = sessions.get(msg.session);
      if (!session) throw new Error(`GPU process: no session ${msg.session}`);
      if (fault && ++runs === fault.at) {
        if (fault.kind === 'abort') process.abort();
        throw new Error('WebGPU device lost (simulated by MINISR_GPU_FAULT)');
      }
      return { type: 'result', id: msg.id, outputs: await session.run(msg.feeds, msg.fetches) };
    }
    case 'release': {
      await sessions.get(msg.session)?.release();
      sessions.delete(msg.session);
      return { type: 'released', id: msg.id };
    }
  }
}

function onMessage(msg: ParentMessage): void {
  handle(msg).then(send, (err: unknown) =>
    send({
      type: 'error',
      id: msg.id,
      message: err instanceof Error ? err.message : String(err),
      ...(err instanceof ExecutionProviderError ? { report: err.report } : {}),
    }),
  );
}

parent.onMessage(onMessage);
