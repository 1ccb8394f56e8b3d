import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../io/tensor';
import type { ChildMessage, ParentMessage, RemoteOpenOptions } from './gpu-protocol';
import { ExecutionProviderError, type EpReport } from './select';
import type { ExecutionProvider, RunnableSession } from './session';

/**
 * GPU sessions in a child process (`gpu-child.ts`), so that a GPU driver's native abort ends that
 * process and not the app, the web server or a batch. The child's end (exit, signal, abort) or a
 * device-lost error becomes a `GpuLostError`, on which the upscaler carries on on the CPU.
 */

/** The GPU process died, or its device was lost: GPU work must go to the CPU. */
export class GpuLostError extends Error {
  override readonly name = 'GpuLostError';
  constructor(
    message: string,
    /** The provider that was lost, when known. */
    readonly ep?: ExecutionProvider,
  ) {
    super(message);
  }
}

/** Errors a GPU provider raises when its device is gone (WebGPU device lost, D3D device removed, CUDA faults). */
const DEVICE_LOST =
  /device (is |was |has been )?lost|device_?lost|DXGI_ERROR_DEVICE_(REMOVED|HUNG|RESET)|device (was )?removed|cudaErrorLaunchFailure|CUDA_ERROR_LAUNCH_FAILED|cudaErrorIllegalAddress/i;

export function isDeviceLost(err: unknown): boolean {
  return DEVICE_LOST.test(err instanceof Error ? err.message : String(err));
}

/** True for an error after which the GPU must not be used again (in this process or the GPU process). */
export function isGpuLoss(err: unknown): boolean {
  return err instanceof GpuLostError || isDeviceLost(err);
}

/** The engine's end of a child process: Node's fork here, an Electron utility process in the app. */
export interface ProcessLink<Out, In> {
  send(msg: Out): void;
  onMessage(cb: (msg: In) => void): void;
  /** Called once when the process has ended, with how (exit code or signal, its last stderr line). */
  onExit(cb: (how: string) => void): void;
  /** While busy the link keeps this process alive; idle, it does not (a CLI run can end). */
  hold(busy: boolean): void;
  kill(): void;
}

/** The engine's end of a GPU process. */
export type ChildLink = ProcessLink<ParentMessage, ChildMessage>;

export type GpuSpawner = () => ChildLink;

/** The forked entry (tsx for the TypeScript engine). */
export const GPU_CHILD_ENTRY = fileURLToPath(new URL('./gpu-child.mjs', import.meta.url));

/** What a dying process said last before Node's stack dump (e.g. "terminate called ... what(): ..."). */
export function lastWords(stderr: string): string {
  const said = stderr.split(/^-+ (?:Native|JavaScript) stack trace -+$/m)[0] ?? '';
  const lines = said
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(-2).join(' ').slice(0, 300);
}

/** Starts the GPU process with Node's `fork`; `env` lets a test give the child a fault to act on. */
export function forkSpawner(opts: { env?: NodeJS.ProcessEnv; entry?: string } = {}): GpuSpawner {
  return () => forkLink(opts.entry ?? GPU_CHILD_ENTRY, opts.env);
}

/** A Node child process running `entry`, its stderr kept for the reason it ended. */
export function forkLink<Out, In>(entry: string, env: NodeJS.ProcessEnv = process.env): ProcessLink<Out, In> {
  const child = fork(entry, [], {
    serialization: 'advanced', // typed arrays cross as they are
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env,
    execArgv: [],
  });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (tail = (tail + d).slice(-4000)));
  const stderr = child.stderr as (NodeJS.ReadableStream & { ref?(): void; unref?(): void }) | null;
  const link: ProcessLink<Out, In> = {
    send: (msg) => void child.send(msg as object, () => undefined), // a send to a dead child fails; 'close' reports why
    onMessage: (cb) => child.on('message', (m) => cb(m as In)),
    onExit: (cb) => {
      let told = false;
      const tell = (how: string) => !told && (told = true) && cb(how);
      child.on('error', (e) => tell(`could not run: ${e.message}`));
      child.on('close', (code, signal) => {
        const last = lastWords(tail);
        tell(`${signal ? `killed by ${signal}` : `exit code ${code}`}${last ? `: ${last}` : ''}`);
      });
    },
    hold: (busy) => {
      // The process handle too: its exit must be seen while a request waits on it.
      if (busy) {
        child.ref();
        child.channel?.ref();
        stderr?.ref?.();
      } else {
        child.unref();
        child.channel?.unref();
        stderr?.unref?.();
      }
    },
    kill: () => child.kill(),
  };
  link.hold(false);
  return link;
}

let threadDefault: GpuSpawner | null | undefined;

/** Sets what `defaultGpuSpawner` gives in this thread: a job worker given a relay port uses it for every cache. */
export function setDefaultGpuSpawner(spawner: GpuSpawner | null): void {
  threadDefault = spawner;
}

/**
 * Where GPU sessions run by default: a forked process, except inside Electron (RunAsNode is fused
 * off there; the app relays) or with MINISR_GPU_PROCESS=0 (in this process: no copy of each tile
 * to and from the GPU process, and no protection from a native abort).
 */
export function defaultGpuSpawner(env: NodeJS.ProcessEnv = process.env): GpuSpawner | null {
  if (threadDefault !== undefined) return threadDefault;
  return process.versions.electron || env.MINISR_GPU_PROCESS === '0' ? null : forkSpawner();
}

type Request = ParentMessage extends infer M ? (M extends ParentMessage ? Omit<M, 'id'> : never) : never;

/** One GPU process, started on the first request; after it is lost every request fails with that loss. */
export class GpuProcess {
  private link: ChildLink | undefined;
  private lost: GpuLostError | undefined;
  private readonly pending = new Map<number, { resolve: (m: ChildMessage) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(private readonly spawner: GpuSpawner) {}

  async open(model: Uint8Array | string, opts: RemoteOpenOptions): Promise<{ session: RemoteSession; report: EpReport }> {
    const reply = await this.request({ type: 'open', model, opts });
    if (reply.type !== 'opened') throw new Error(`GPU process: unexpected reply ${reply.type} to open`);
    return { session: new RemoteSession(this, reply.session, reply.ep), report: reply.report };
  }

  async run(
    session: number,
    ep: ExecutionProvider,
    feeds: Readonly<Record<string, HostTensor>>,
    fetches?: readonly string[],
  ): Promise<Record<string, HostTensor>> {
    try {
      const reply = await this.request({ type: 'run', session, feeds, ...(fetches ? { fetches } : {}) });
      if (reply.type !== 'result') throw new Error(`GPU process: unexpected reply ${reply.type} to run`);
      return reply.outputs;
    } catch (err) {
      throw err instanceof GpuLostError && !err.ep ? new GpuLostError(err.message, ep) : err;
    }
  }

  async release(session: number): Promise<void> {
    if (this.lost || !this.link) return; // the process and its sessions are gone
    await this.request({ type: 'release', session }).catch(() => undefined);
  }

  /** Ends the process (its sessions with it); the next request starts a new one. */
  close(): void {
    const link = this.link;
    this.link = undefined;
    this.rejectAll(new Error('GPU process closed'));
    link?.kill();
  }

  private start(): ChildLink {
    if (this.link) return this.link;
    const link = this.spawner();
    this.link = link;
    link.onMessage((m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) link.hold(false);
      p.resolve(m);
    });
    link.onExit((how) => {
      if (this.link !== link) return; // closed on purpose
      this.loseProcess(new GpuLostError(`the GPU process ended (${how})`));
    });
    return link;
  }

  private loseProcess(err: GpuLostError): void {
    this.lost ??= err;
    const link = this.link;
    this.link = undefined;
    this.rejectAll(this.lost);
    link?.kill();
  }

  private rejectAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private async request(msg: Request): Promise<ChildMessage> {
    if (this.lost) throw this.lost;
    const link = this.start();
    const id = this.nextId++;
    const reply = await new Promise<ChildMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      link.hold(true);
      link.send({ ...msg, id } as ParentMessage);
    });
    if (reply.type !== 'error') return reply;
    if (reply.report) throw new ExecutionProviderError(reply.message, reply.report);
    if (isDeviceLost(reply.message)) {
      // The device is gone, and with it every session of that process.
      this.loseProcess(new GpuLostError(reply.message));
      throw this.lost!;
    }
    throw new Error(reply.message);
  }
}

/** A session living in the GPU process. */
export class RemoteSession implements RunnableSession {
  constructor(
    private readonly proc: GpuProcess,
    private readonly id: number,
    readonly ep: ExecutionProvider,
  ) {}

  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    return this.proc.run(this.id, this.ep, feeds, fetches);
  }

  release(): Promise<void> {
    return this.proc.release(this.id);
  }
}
