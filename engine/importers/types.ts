import type { ModelConfig } from '../zoo/registry';

/**
 * What every importer hands the import pipeline: a self-contained ONNX upscaler in MiniSR's tensor
 * convention plus what its model card needs. Importers parse untrusted files without executing
 * anything; the pipeline (not the importer) writes files, atomically, into the models folder.
 *
 * Convention of `onnx`: one input `input` and one output `output`, float32 NCHW RGB in [0, 1]
 * (a model trained on 0-255 gets the scaling inside the graph), height and width symbolic or
 * fixed to `tile`, output `scale` times the input's size.
 */
export interface ImportedGraph {
  readonly onnx: Uint8Array;
  /** Set when the model is one of the zoo's families (the .pth importers): its card is a full zoo card. */
  readonly config?: ModelConfig;
  /** Upscaling factor, measured or read from the weights' shapes. */
  readonly scale: number;
  readonly params: number;
  /** Architecture as a user would name it, e.g. 'RRDBNet (ESRGAN)', 'UpscalerJS esrgan-slim'. */
  readonly architecture: string;
  /** How far (in input pixels) a change of one input pixel spreads: the tiler's overlap. */
  readonly margin: number;
  /** Input height and width must be multiples of this (inputs are padded to it). */
  readonly inputMultiple: number;
  /** Licence text found in or beside the source (e.g. a package's LICENSE), if any. */
  readonly licence?: string;
}
