import type { BuildTarget } from '../graph/graph';
import type { Shape } from '../graph/value';
import { float32Tensor, type HostTensor } from '../io/tensor';
import type { EpReport } from '../runtime/select';
import type { ExecutionProvider } from '../runtime/session';
import type { Batch } from './crops';
import type { StepShape } from './train-graph';

/**
 * What the two ways of running a training step share (`OnnxTrainStep`: gradients back to the host;
 * `ResidentTrainStep`: the update in the graph): a built graph with its parameters, laid out for a
 * target, opened on a provider, and fed a batch of LR/HR (and teacher) patches.
 */

/** What both step graphs declare (`TrainGraphBytes`, `UpdateGraphBytes`). */
export interface StepGraph {
  paramKeys: string[];
  paramShapes: Map<string, Shape>;
  usesTeacher: boolean;
  target: BuildTarget;
}

export abstract class GraphStep<G extends StepGraph> {
  protected constructor(
    protected readonly built: G,
    protected readonly shape: StepShape,
    protected readonly scale: number,
    /** Which providers were tried and which one runs the step. */
    readonly epReport: EpReport,
  ) {}

  get ep(): ExecutionProvider {
    return this.epReport.used;
  }

  /** The layout the step's graph was built for. */
  get target(): BuildTarget {
    return this.built.target;
  }

  get paramKeys(): readonly string[] {
    return this.built.paramKeys;
  }

  get paramShapes(): ReadonlyMap<string, Shape> {
    return this.built.paramShapes;
  }
}

/** The batch's inputs of a step graph; without a batch, zeros (a provider's trial step). */
export function batchFeeds(built: StepGraph, shape: StepShape, scale: number, batch?: Batch): Record<string, HostTensor> {
  const { batch: n, patch: p } = shape;
  const P = p * scale;
  const feeds: Record<string, HostTensor> = { lr: float32Tensor([n, 3, p, p], batch?.lr), hr: float32Tensor([n, 3, P, P], batch?.hr) };
  if (built.usesTeacher) {
    if (batch && !batch.teacher) throw new Error('distillation step needs teacher outputs in the batch');
    feeds.teacher = float32Tensor([n, 3, P, P], batch?.teacher);
  }
  return feeds;
}
