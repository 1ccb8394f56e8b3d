import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeOnnx } from '../graph/onnx';
import type { Shape } from '../graph/value';
import { ModelSession, type ExecutionProvider } from '../runtime/session';
import type { StepShape, TrainGraphBytes } from './train-graph';
import type { UpdateGraphBytes } from './update-graph';

/**
 * What one training step costs a device beyond its arithmetic: kernel dispatches (nodes left
 * after ORT's graph optimisations, each one a dispatch on a GPU) and the bytes crossing between
 * host and device (host update: parameters, batch and teacher up, loss and gradients down, since
 * Adam and the EMA run on the host; in-graph update: the state stays on the device, so only the
 * batch and a few scalars go up and the loss comes down). Both are measured without a GPU, so
 * progress shows on every machine.
 */

export interface StepTransfer {
  readonly upBytes: number;
  readonly downBytes: number;
}

const elements = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** float32 bytes fed to and fetched from one run of a training graph. */
export function stepTransfer(built: TrainGraphBytes, shape: StepShape, scale: number): StepTransfer {
  const { batch: n, patch: p } = shape;
  const image = (side: number) => n * 3 * side * side;
  let up = image(p) + image(p * scale) * (built.usesTeacher ? 2 : 1);
  for (const s of built.paramShapes.values()) up += elements(s);
  let down = 1; // the loss
  for (const k of built.paramKeys) down += elements(built.paramShapes.get(k)!);
  return { upBytes: up * 4, downBytes: down * 4 };
}

/** float32 bytes of one step of the in-graph update with its state resident (resident-step.ts); loading it and reading it back at checkpoints are not per step. */
export function residentStepTransfer(built: UpdateGraphBytes, shape: StepShape, scale: number): StepTransfer {
  const { batch: n, patch: p } = shape;
  const image = (side: number) => n * 3 * side * side;
  const up = image(p) + image(p * scale) * (built.usesTeacher ? 2 : 1) + built.scalarInputs.length;
  return { upBytes: up * 4, downBytes: 4 };
}

/** Nodes of the graph as ORT runs it on `ep`, read back from its optimised-model dump. */
export async function optimizedNodeCount(onnx: Uint8Array, ep: ExecutionProvider): Promise<{ before: number; after: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'minisr-optimized-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const session = await ModelSession.create(onnx, { ep, optimizedModelPath: path });
    await session.release();
    const count = (bytes: Uint8Array) => Object.values(summarizeOnnx(bytes).opCounts).reduce((a, b) => a + b, 0);
    return { before: count(onnx), after: count(await readFile(path)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
