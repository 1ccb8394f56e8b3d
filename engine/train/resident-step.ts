import { Graph } from '../graph/graph';
import { toOnnx } from '../graph/onnx';
import { float32Tensor, type HostTensor } from '../io/tensor';
import { DeviceTensor, ModelSession, type Feed } from '../runtime/session';
import { openSession, type EpReport, type OpenOptions } from '../runtime/select';
import { resolveArch, type ModelConfig } from '../zoo/registry';
import type { Batch } from './crops';
import { batchFeeds, GraphStep } from './graph-step';
import type { ParamSet } from './optim';
import type { LossConfig, StepShape } from './train-graph';
import {
  buildUpdateGraph,
  flatten,
  nextName,
  SCALAR_INPUTS,
  STATE,
  unflattenInto,
  type StateName,
  type UpdateGraphBytes,
  type UpdateScalars,
  type UpdateSettings,
} from './update-graph';

/** Per-key parameters, Adam moments and EMA weights: what a checkpoint holds. */
export type ResidentState = Record<StateName, ParamSet>;

/**
 * Runs the in-graph update (update-graph.ts) with the parameters, Adam moments and EMA kept
 * where the provider computed them: on WebGPU they stay in GPU memory from one step to the next
 * and only the batch goes up and the loss comes down; they are read back (through a graph of
 * Identity nodes on the same provider) only for checkpoints, validation and export. On the CPU
 * the same class runs with host tensors.
 */
export class ResidentTrainStep extends GraphStep<UpdateGraphBytes> {
  private state: Partial<Record<StateName, Feed>> = {};

  private constructor(
    private readonly session: ModelSession,
    private readonly readback: ModelSession,
    built: UpdateGraphBytes,
    shape: StepShape,
    scale: number,
    epReport: EpReport,
  ) {
    super(built, shape, scale, epReport);
  }

  /** Opens on `opts.ep` as `OnnxTrainStep.create` does (trial step on a GPU, CPU layout when the CPU runs it). */
  static async create(
    model: ModelConfig,
    loss: LossConfig,
    shape: StepShape,
    settings: UpdateSettings,
    opts: OpenOptions = {},
  ): Promise<ResidentTrainStep> {
    const scale = resolveArch(model).scale;
    const ep = opts.ep ?? 'cpu';
    const keepOnDevice = STATE.map(nextName);
    let built = buildUpdateGraph(model, loss, shape, settings, ep === 'cpu' ? 'cpu' : 'gpu');
    const probe = ep === 'cpu' ? undefined : zeroFeeds(built, shape, scale);
    const opened = await openSession(built.onnx, { ...opts, ep, keepOnDevice, ...(probe ? { probe } : {}) });
    let session = opened.session;
    if (opened.report.used === 'cpu' && built.target === 'gpu') {
      await session.release();
      built = buildUpdateGraph(model, loss, shape, settings, 'cpu');
      session = (await openSession(built.onnx, { ...opts, ep: 'cpu', keepOnDevice })).session;
    }
    const readback = await ModelSession.create(readbackGraph(built.size), { ...opts, ep: opened.report.used });
    return new ResidentTrainStep(session, readback, built, shape, scale, opened.report);
  }

  /** Sets the state the next step starts from (sent to the device with that step). */
  load(state: ResidentState): void {
    this.dropState();
    for (const s of STATE) this.state[s] = float32Tensor([this.built.size], flatten(this.built.paramShapes, this.built.size, state[s]));
  }

  /** One training step; returns its loss. The updated state replaces the held one. */
  async run(batch: Batch, scalars: UpdateScalars): Promise<number> {
    const feeds: Record<string, Feed> = batchFeeds(this.built, this.shape, this.scale, batch);
    for (const s of STATE) {
      const t = this.state[s];
      if (!t) throw new Error('ResidentTrainStep.run before load()');
      feeds[s] = t;
    }
    for (const [k, name] of Object.entries(SCALAR_INPUTS) as [keyof UpdateScalars, string][])
      if (this.built.scalarInputs.includes(name)) feeds[name] = float32Tensor([], new Float32Array([scalars[k]]));
    const { host, device } = await this.session.runResident(feeds);
    this.dropState();
    for (const s of STATE) this.state[s] = device[nextName(s)] ?? host[nextName(s)];
    return (host.loss!.data as Float32Array)[0]!;
  }

  /** Copies the held state into `into` (per key, in place). */
  async readInto(into: ResidentState): Promise<void> {
    const feeds: Record<string, Feed> = {};
    for (const s of STATE) {
      const t = this.state[s];
      if (!t) throw new Error('ResidentTrainStep.readInto before load()');
      feeds[s] = t;
    }
    const out = await this.readback.run(feeds);
    for (const s of STATE) unflattenInto(this.built.paramShapes, out[`out.${s}`]!.data as Float32Array, into[s]);
  }

  async release(): Promise<void> {
    this.dropState();
    await this.session.release();
    await this.readback.release();
  }

  private dropState(): void {
    for (const s of STATE) {
      const t = this.state[s];
      if (t instanceof DeviceTensor) t.dispose();
      delete this.state[s];
    }
  }
}

/** Identity of each flat state vector: fed device tensors, its outputs come to the host. */
function readbackGraph(size: number): Uint8Array {
  const g = new Graph('readback');
  for (const s of STATE) g.output(g.op1('Identity', [g.input(s, [size])]), `out.${s}`);
  return toOnnx(g, { params: 'inputs' });
}

function zeroFeeds(built: UpdateGraphBytes, shape: StepShape, scale: number): Record<string, HostTensor> {
  const feeds = batchFeeds(built, shape, scale);
  for (const s of STATE) feeds[s] = float32Tensor([built.size]);
  // bias corrections of 1 keep the trial step finite
  for (const name of built.scalarInputs) feeds[name] = float32Tensor([], new Float32Array([1]));
  return feeds;
}
