import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { UtilityProcessLike, UtilityProcessModuleLike } from '../../electron/main/electron-api';

const HOST = fileURLToPath(new URL('../fixtures/electron/utility-process.mjs', import.meta.url));

/**
 * Electron's `utilityProcess` for tests under plain Node: each fork is a real Node child running
 * the entry with an emulated `process.parentPort` (test/fixtures/electron/utility-process.mjs).
 * A message the child sends past that port (Node's channel) is recorded in `strays` and ends the
 * child, as it would go nowhere in the app.
 */
export function nodeUtilityProcess(): UtilityProcessModuleLike & {
  forks: { entry: string; serviceName: string }[];
  strays: unknown[];
} {
  const forks: { entry: string; serviceName: string }[] = [];
  const strays: unknown[] = [];
  return {
    forks,
    strays,
    fork(entry, _args, options) {
      forks.push({ entry, serviceName: options.serviceName });
      const child = fork(HOST, [entry], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
      const utility = Object.assign(new EventEmitter(), {
        stderr: child.stderr,
        postMessage: (message: unknown) => void child.send({ toPort: message }, () => undefined),
        kill: () => child.kill(),
      }) as EventEmitter & UtilityProcessLike;
      child.on('message', (m: { fromPort?: unknown }) => {
        if (m && typeof m === 'object' && 'fromPort' in m) return void utility.emit('message', m.fromPort);
        strays.push(m);
        child.kill();
      });
      // Electron reports an exit code only: a signal as a shell does (SIGABRT: 134).
      child.on('exit', (code, signal) => utility.emit('exit', code ?? 128 + (signal ? constants.signals[signal] : 0)));
      return utility;
    },
  };
}
