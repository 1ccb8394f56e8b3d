import { toOnnx } from '../graph/onnx';
import { numel } from '../io/tensor';
import { exportSymbolicOnnx, isGraphSizeIndependent, type GraphAtSize } from '../zoo/dynamic';
import { buildKerasGraph, checkLayerTypes, kerasOnnxWeights } from './keras-graph';
import { readKerasModel, type KerasModel, type KerasReadLimits } from './keras-model';
import { withImportMetadata } from './metadata';
import { packageAbove, type MayRead } from './model-name';
import { measureMargin, openProbe } from './probe';
import type { ImportedGraph } from './types';

/**
 * UpscalerJS / Keras `model.json` -> ImportedGraph. The value range follows UpscalerJS's model
 * definitions (packages/shared/src/esrgan/esrgan.ts): its `rdn` models (esrgan-slim, -medium) take
 * and give 0-255, its `rrdn` models (esrgan-thick, the ones with the custom MultiplyBeta and
 * PixelShuffle layers) 0-1. The definition is code we do not run, so the layers tell which.
 */

export interface KerasImportOptions {
  /** Override the value range read from the layers. */
  readonly range?: 1 | 255;
  /** Fixed square input size; absent: symbolic H/W (every layer here is size-independent). */
  readonly tile?: number;
  readonly limits?: KerasReadLimits;
  /** Which files beside the model (package.json, LICENSE) may be read; default: any. */
  readonly mayRead?: MayRead;
}

/** 1 for UpscalerJS's rrdn models (custom layers), 255 for the rdn ones and other plain Keras models. */
export function upscalerjsRange(model: KerasModel): 1 | 255 {
  return model.layers.some((l) => l.className === 'MultiplyBeta' || /^PixelShuffle\d+x$/.test(l.className)) ? 1 : 255;
}

export async function importKeras(modelJson: string, opts: KerasImportOptions = {}): Promise<ImportedGraph> {
  const model = await readKerasModel(modelJson, opts.limits);
  checkLayerTypes(model);
  const range = opts.range ?? upscalerjsRange(model);
  const weights = kerasOnnxWeights(model);
  const build: GraphAtSize = (size) => buildKerasGraph(model, { ...size, range });
  if (opts.tile !== undefined && (!Number.isInteger(opts.tile) || opts.tile < 1))
    throw new RangeError(`tile must be a positive integer, got ${opts.tile}`);
  const fixed = opts.tile !== undefined ? { height: opts.tile, width: opts.tile } : undefined;
  const onnx = fixed
    ? toOnnx(build({ batch: 1, ...fixed }), { params: 'initializers', weights, producer: 'minisr' })
    : isGraphSizeIndependent(build, 1)
      ? exportSymbolicOnnx(build, 1, weights)
      : toOnnx(build({ batch: 1, height: 64, width: 64 }), { params: 'initializers', weights, producer: 'minisr' });
  const small = build({ batch: 1, height: 4, width: 4 });
  const scale = small.outputs[0]!.shape[2]! / 4;
  if (!Number.isInteger(scale) || small.outputs[0]!.shape[3] !== scale * 4 || small.outputs[0]!.shape[1] !== 3) {
    throw new Error(`output [${small.outputs[0]!.shape.join(', ')}] of a 4x4 input is not an RGB upscale`);
  }
  const probe = await openProbe(onnx, 'input', 'output');
  let margin: number;
  try {
    margin = (await measureMargin(probe, scale, fixed ? { fixed } : {})).margin;
  } finally {
    await probe.session.release();
  }
  const pkg = await packageAbove(modelJson, opts.mayRead);
  const upscalerjs = pkg?.name.startsWith('@upscalerjs/');
  const architecture = upscalerjs ? `UpscalerJS ${pkg!.name.slice('@upscalerjs/'.length)}` : 'Keras (model.json)';
  return {
    onnx: withImportMetadata(onnx, { scale, margin, inputMultiple: 1, architecture }),
    scale,
    // The model's own weights (the graph's fused upsampling convs hold s*s copies of some).
    params: [...model.weights.values()].reduce((n, t) => n + numel(t.shape), 0),
    architecture,
    margin,
    inputMultiple: 1,
    ...(pkg?.licence !== undefined ? { licence: pkg.licence } : {}),
  };
}
