import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ChildMessage, ParentMessage } from './gpu-protocol';
import type { ChildLink, GpuSpawner } from './gpu-process';

/**
 * GPU processes for a worker thread that cannot start them itself: in the packaged Electron app
 * only the main thread may start a utility process (RunAsNode is fused off, so `fork` would start
 * a second app). The worker asks over a port (`portSpawner`); the main thread starts the process
 * and relays its messages (`serveGpuProcesses`), one port per process.
 */

/** From the relay to the worker: the process's messages, then how it ended. */
type RelayDown = ChildMessage | { readonly type: 'exit'; readonly how: string };
/** From the worker to the relay: messages for the process, or the order to end it. */
type RelayUp = ParentMessage | { readonly type: 'kill' };

/** In the worker: each spawn asks the thread at the other end of `port` for a process. */
export function portSpawner(port: MessagePort): GpuSpawner {
  port.unref();
  return () => {
    const { port1, port2 } = new MessageChannel();
    port.postMessage({ type: 'spawn', port: port2 }, [port2]);
    let onMessage: (m: ChildMessage) => void = () => {};
    let onExit: (how: string) => void = () => {};
    port1.on('message', (m: RelayDown) => {
      if (m.type !== 'exit') return onMessage(m);
      port1.close();
      onExit(m.how);
    });
    const link: ChildLink = {
      send: (msg) => port1.postMessage(msg satisfies RelayUp),
      onMessage: (cb) => (onMessage = cb),
      onExit: (cb) => (onExit = cb),
      hold: (busy) => (busy ? port1.ref() : port1.unref()),
      kill: () => port1.postMessage({ type: 'kill' } satisfies RelayUp),
    };
    link.hold(false);
    return link;
  };
}

/** In the thread that can start processes: serves `port`'s spawn requests with `spawner`. */
export function serveGpuProcesses(port: MessagePort, spawner: GpuSpawner): void {
  port.on('message', (req: { type: 'spawn'; port: MessagePort }) => {
    if (req.type !== 'spawn') return;
    const worker = req.port;
    const link = spawner();
    link.onMessage((m) => worker.postMessage(m satisfies RelayDown));
    link.onExit((how) => {
      worker.postMessage({ type: 'exit', how } satisfies RelayDown);
      worker.close();
    });
    // A worker that ends (job done, terminated) closes its ports: its process goes with it.
    worker.on('close', () => link.kill());
    worker.on('message', (m: RelayUp) => (m.type === 'kill' ? link.kill() : link.send(m)));
  });
  port.on('close', () => port.removeAllListeners());
}
