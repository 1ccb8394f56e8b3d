import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../io/tensor';

/**
 * The one place that talks to onnxruntime-node. Everything else hands us ONNX bytes and
 * HostTensors, so the execution provider is a detail of this module.
 */

export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface SessionOptions {
  readonly ep?: ExecutionProvider;
  /** Intra-op threads; 0 or absent lets ORT choose (all cores). */
  readonly threads?: number;
  readonly graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT log severity: 0 verbose .. 4 fatal. */
  readonly logSeverity?: 0 | 1 | 2 | 3 | 4;
  /**
   * Let idle ORT worker threads spin. Off by default: a desktop app shares its cores with the UI
   * and other work, and on a loaded 2-core machine spinning made SwinIR 1.5-3.8x slower.
   */
  readonly allowSpinning?: boolean;
  /** Profile every run into `<prefix>_<timestamp>.json` (ORT's per-node timings); see `endProfiling`. */
  readonly profile?: string;
  /** Write the graph as ORT optimised it (ONNX) to this path, to see its fusions and layouts. */
  readonly optimizedModelPath?: string;
  /** Extra ORT session config entries (e.g. `session.disable_prepacking`: '1'). */
  readonly configEntries?: Readonly<Record<string, string>>;
  /** `parallel` runs independent branches of the graph at once (inter-op threads); default sequential. */
  readonly executionMode?: 'sequential' | 'parallel';
  /** Inter-op threads for `parallel`; 0 or absent lets ORT choose. */
  readonly interOpThreads?: number;
  /**
   * Outputs a GPU provider leaves in device memory (WebGPU: ORT's preferred output location
   * `gpu-buffer`), returned by `runResident` as DeviceTensors to feed to the next run. On the
   * CPU they are ordinary tensors, so callers need no second path.
   */
  readonly keepOnDevice?: readonly string[];
}

/** What running a model needs: a session here, or one in the GPU process (`gpu-process.ts`). */
export interface RunnableSession {
  readonly ep: ExecutionProvider;
  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/**
 * A tensor a session left where it computed it: in GPU memory on WebGPU, host memory on the CPU.
 * Feed it to a run of any session on the same provider (e.g. a graph of Identity nodes, to read
 * it back: onnxruntime-node 1.30 aborts the process on `getData()` of a WebGPU tensor). Owns its
 * buffer until `dispose()`.
 */
export class DeviceTensor {
  constructor(private tensor: ort.Tensor | undefined) {}

  get shape(): readonly number[] {
    return this.ort.dims;
  }

  /** 'cpu' or 'gpu-buffer'. */
  get location(): string {
    return this.ort.location;
  }

  /** @internal the onnxruntime tensor (engine/runtime only). */
  get ort(): ort.Tensor {
    if (!this.tensor) throw new Error('device tensor used after dispose()');
    return this.tensor;
  }

  dispose(): void {
    if (this.tensor?.location === 'gpu-buffer') this.tensor.dispose();
    this.tensor = undefined;
  }
}

export type Feed = HostTensor | DeviceTensor;

/**
 * onnxruntime calls in flight in this thread. A worker thread ended during one takes the whole
 * process with it (the call's completion throws into a torn-down environment: "terminate called
 * after throwing an instance of 'Napi::Error'"), so a worker waits for `whenNativeIdle` before it
 * tells its parent it is done, and the parent ends it only then.
 */
let inFlight = 0;
let idleWaiters: (() => void)[] = [];

async function native<T>(call: () => Promise<T>): Promise<T> {
  inFlight++;
  try {
    return await call();
  } finally {
    if (--inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/** Resolves once no onnxruntime call made through this module is in flight in this thread. */
export function whenNativeIdle(): Promise<void> {
  return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
}

export class ModelSession implements RunnableSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly ep: ExecutionProvider,
    private readonly profile?: string,
    private readonly keepOnDevice: ReadonlySet<string> = new Set(),
  ) {}

  static async create(model: Uint8Array | string, opts: SessionOptions = {}): Promise<ModelSession> {
    const ep = opts.ep ?? 'cpu';
    const keep = ep === 'webgpu' ? (opts.keepOnDevice ?? []) : [];
    const session = await native(() =>
      ort.InferenceSession.create(model as Uint8Array, {
        executionProviders: [ep],
        ...(keep.length ? { preferredOutputLocation: Object.fromEntries(keep.map((n) => [n, 'gpu-buffer' as const])) } : {}),
        graphOptimizationLevel: opts.graphOptimization ?? 'all',
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
        ...(opts.executionMode ? { executionMode: opts.executionMode } : {}),
        ...(opts.interOpThreads ? { interOpNumThreads: opts.interOpThreads } : {}),
        logSeverityLevel: opts.logSeverity ?? 3,
        ...(opts.profile ? { enableProfiling: true, profileFilePrefix: opts.profile } : {}),
        ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
        extra: {
          ...opts.configEntries,
          session: {
            intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' },
            inter_op: { allow_spinning: opts.allowSpinning ? '1' : '0' },
          },
        },
      }),
    );
    return new ModelSession(session, ep, opts.profile, new Set(opts.keepOnDevice));
  }

  /** Ends profiling (sessions created with `profile`) and returns the JSON file ORT wrote. */
  endProfiling(): string {
    if (!this.profile) throw new Error('endProfiling: the session was not created with a profile prefix');
    const dir = path.dirname(path.resolve(this.profile));
    const base = path.basename(this.profile);
    const before = new Set(fs.readdirSync(dir));
    this.session.endProfiling();
    const written = fs.readdirSync(dir).filter((f) => f.startsWith(`${base}_`) && f.endsWith('.json'));
    const fresh = written.find((f) => !before.has(f)) ?? written.sort().pop();
    if (!fresh) throw new Error(`endProfiling: ORT wrote no ${base}_*.json in ${dir}`);
    return path.join(dir, fresh);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Declared input shapes (symbolic dimensions as their names; [] when the model gives none). */
  get inputShapes(): Record<string, readonly (number | string)[]> {
    const out: Record<string, readonly (number | string)[]> = {};
    for (const m of this.session.inputMetadata) out[m.name] = m.isTensor ? m.shape : [];
    return out;
  }

  /** Runs the model; outputs named in `keepOnDevice` are dropped (see `runResident`). */
  async run(feeds: Readonly<Record<string, Feed>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    const { host, device } = await this.runResident(feeds, fetches);
    for (const t of Object.values(device)) t.dispose();
    return host;
  }

  /** Runs the model: outputs named in `keepOnDevice` stay where they were computed, the others come to the host. */
  async runResident(
    feeds: Readonly<Record<string, Feed>>,
    fetches?: readonly string[],
  ): Promise<{ host: Record<string, HostTensor>; device: Record<string, DeviceTensor> }> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = t instanceof DeviceTensor ? t.ort : toOrt(t);
    const results = await native(() => (fetches ? this.session.run(ortFeeds, fetches as string[]) : this.session.run(ortFeeds)));
    const host: Record<string, HostTensor> = {};
    const device: Record<string, DeviceTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (this.keepOnDevice.has(name)) device[name] = new DeviceTensor(t);
      else {
        host[name] = fromOrt(t);
        t.dispose();
      }
    }
    return { host, device };
  }

  async release(): Promise<void> {
    await native(() => this.session.release());
  }
}

function toOrt(t: HostTensor): ort.Tensor {
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', t.data as Float32Array, t.shape as number[]);
    case 'int64':
      return new ort.Tensor('int64', t.data as BigInt64Array, t.shape as number[]);
    case 'int32':
      return new ort.Tensor('int32', t.data as Int32Array, t.shape as number[]);
    case 'uint8':
      return new ort.Tensor('uint8', t.data as Uint8Array, t.shape as number[]);
    case 'bool':
      return new ort.Tensor('bool', t.data as Uint8Array, t.shape as number[]);
  }
}

function fromOrt(t: ort.Tensor): HostTensor {
  const shape = [...t.dims];
  switch (t.type) {
    case 'float32':
      return { dtype: 'float32', shape, data: t.data as Float32Array };
    case 'int64':
      return { dtype: 'int64', shape, data: t.data as BigInt64Array };
    case 'int32':
      return { dtype: 'int32', shape, data: t.data as Int32Array };
    case 'uint8':
      return { dtype: 'uint8', shape, data: t.data as Uint8Array };
    case 'bool':
      return { dtype: 'bool', shape, data: t.data as unknown as Uint8Array };
    default:
      throw new TypeError(`output element type ${t.type} is not supported`);
  }
}

/** Execution providers this onnxruntime-node build ships (CUDA needs user-installed libraries). */
export function bundledProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}
