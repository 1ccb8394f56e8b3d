/**
 * A child process's end of its link to the engine (`gpu-child.ts`, `api/job-process.ts`):
 * Electron's `process.parentPort` in a utility process (the packaged app, where RunAsNode is fused
 * off), else the IPC channel of Node's `fork` (CLI, web mode).
 */

interface ElectronParentPort {
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

export interface ParentChannel<Out, In> {
  send(msg: Out): void;
  onMessage(cb: (msg: In) => void): void;
}

export function parentChannel<Out, In>(): ParentChannel<Out, In> {
  const port = (process as { parentPort?: ElectronParentPort }).parentPort;
  if (port) return { send: (m) => port.postMessage(m), onMessage: (cb) => port.on('message', (e) => cb(e.data as In)) };
  // The engine went away (exit, crash, worker terminated): nothing is left to serve. (Electron
  // ends its utility processes with the app.)
  process.on('disconnect', () => process.exit(0));
  return { send: (m) => void process.send?.(m), onMessage: (cb) => void process.on('message', (m) => cb(m as In)) };
}
