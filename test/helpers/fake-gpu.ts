import type { ChildMessage, ParentMessage } from '../../engine/runtime/gpu-protocol';
import type { ChildLink, GpuSpawner } from '../../engine/runtime/gpu-process';
import { ModelSession } from '../../engine/runtime/session';

/**
 * A stand-in for the GPU process, for tests of the engine's side on machines without a GPU: it
 * answers as a WebGPU session would, computing on the CPU EP in this process, and at the
 * `atRun`th run either "dies" (as a native abort ends the real process) or reports a lost device.
 */
export function fakeGpuSpawner(fault: { kind: 'abort' | 'device-lost'; atRun: number }): GpuSpawner & { spawned: number } {
  const spawner = (() => {
    spawner.spawned++;
    const sessions = new Map<number, ModelSession>();
    let onMessage: (m: ChildMessage) => void = () => {};
    let onExit: (how: string) => void = () => {};
    let dead = false;
    let runs = 0;
    let nextSession = 1;
    const die = (how: string) => {
      dead = true;
      for (const s of sessions.values()) void s.release();
      sessions.clear();
      setImmediate(() => onExit(how));
    };
    const handle = async (msg: ParentMessage): Promise<ChildMessage | undefined> => {
      switch (msg.type) {
        case 'open': {
          const session = await ModelSession.create(msg.model, { ep: 'cpu' });
          if (msg.opts.probe) await session.run(msg.opts.probe);
          const id = nextSession++;
          sessions.set(id, session);
          const report = {
            requested: msg.opts.ep,
            used: 'webgpu' as const,
            attempts: [{ ep: 'webgpu' as const, outcome: 'used' as const }],
          };
          return { type: 'opened', id: msg.id, session: id, ep: 'webgpu', report };
        }
        case 'run':
          if (++runs === fault.atRun) {
            if (fault.kind === 'abort') {
              die("killed by SIGABRT: terminate called after throwing an instance of 'Napi::Error'");
              return undefined;
            }
            return { type: 'error', id: msg.id, message: 'WebGPU device lost (simulated)' };
          }
          return { type: 'result', id: msg.id, outputs: await sessions.get(msg.session)!.run(msg.feeds, msg.fetches) };
        case 'release':
          await sessions.get(msg.session)?.release();
          sessions.delete(msg.session);
          return { type: 'released', id: msg.id };
      }
    };
    const link: ChildLink = {
      send: (msg) => {
        if (dead) return;
        handle(msg).then(
          (reply) => reply && !dead && onMessage(reply),
          (e: Error) => !dead && onMessage({ type: 'error', id: msg.id, message: e.message }),
        );
      },
      onMessage: (cb) => (onMessage = cb),
      onExit: (cb) => (onExit = cb),
      hold: () => {},
      kill: () => !dead && die('killed by SIGTERM'),
    };
    return link;
  }) as GpuSpawner & { spawned: number };
  spawner.spawned = 0;
  return spawner;
}
