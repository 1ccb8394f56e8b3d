import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { PlanarImage } from '../image/planar';
import { float32Tensor, type StateDict } from '../io/tensor';
import { toOnnx } from '../graph/onnx';
import { ModelSession, type SessionOptions } from '../runtime/session';
import { buildModel, modelParamShapes } from './build';
import { CARD_METADATA_KEY, cardPathFor, parseCard, readCard, type ModelCard } from './card';
import { resolveArch, type ModelConfig } from './registry';

const { onnx } = onnxProto;

/**
 * Runs a zoo model on whole images of any size, for evaluation. A model exported with symbolic
 * H/W runs as it is; a static one is rebuilt for each image size from its config and the weights
 * it carries (so results equal the exported graph's, without tiling seams). Inputs are padded
 * by mirroring to the family's multiple, as the official SwinIR test script does, and the output
 * cropped back.
 */
export class ImageModel {
  private sized: { key: string; session: ModelSession } | undefined;

  private constructor(
    readonly config: ModelConfig,
    private readonly weights: StateDict | undefined,
    private readonly dynamicSession: ModelSession | undefined,
    private readonly sessionOptions: SessionOptions,
  ) {}

  get scale(): number {
    return resolveArch(this.config).scale;
  }

  static async fromWeights(config: ModelConfig, weights: StateDict, opts: SessionOptions = {}): Promise<ImageModel> {
    return new ImageModel(resolveArch(config).config, weights, undefined, opts);
  }

  /** An exported model: its card comes from the ONNX metadata unless given (e.g. read from `<model>.json`). */
  static async fromOnnx(bytes: Uint8Array, card?: ModelCard, opts: SessionOptions = {}): Promise<ImageModel> {
    const c = card ?? cardFromOnnx(bytes);
    if (c.tile === 'dynamic') return new ImageModel(c.config, undefined, await ModelSession.create(bytes, opts), opts);
    return new ImageModel(c.config, weightsFromOnnx(bytes, c.config), undefined, opts);
  }

  /** Upscales one RGB planar image ([0,1]) by the model's scale. */
  async upscale(img: PlanarImage): Promise<PlanarImage> {
    if (img.channels !== 3) throw new RangeError(`model input must have 3 channels, got ${img.channels}`);
    const m = resolveArch(this.config).inputMultiple;
    const h = Math.ceil(img.height / m) * m;
    const w = Math.ceil(img.width / m) * m;
    const padded = mirrorPad(img, h, w);
    const session = this.dynamicSession ?? (await this.sessionFor(h, w));
    const out = (await session.run({ input: float32Tensor([1, 3, h, w], padded.data) })).output!;
    const s = this.scale;
    return crop({ width: w * s, height: h * s, channels: 3, data: out.data as Float32Array }, img.height * s, img.width * s);
  }

  async release(): Promise<void> {
    await this.dynamicSession?.release();
    await this.sized?.session.release();
    this.sized = undefined;
  }

  private async sessionFor(height: number, width: number): Promise<ModelSession> {
    const key = `${height}x${width}`;
    if (this.sized?.key === key) return this.sized.session;
    await this.sized?.session.release();
    const { graph } = buildModel(this.config, { height, width });
    const session = await ModelSession.create(toOnnx(graph, { params: 'initializers', weights: this.weights! }), this.sessionOptions);
    this.sized = { key, session };
    return session;
  }
}

/** An ONNX file's card: the `<model>.json` beside it where there is one, else its metadata (`bytes`: the file, where already read). */
export async function cardOfOnnxFile(path: string, bytes?: Uint8Array): Promise<ModelCard> {
  const side = cardPathFor(path);
  return existsSync(side) ? readCard(side) : cardFromOnnx(bytes ?? (await readFile(path)));
}

/** The model card an exported ONNX file carries in its metadata. */
export function cardFromOnnx(bytes: Uint8Array): ModelCard {
  const model = decode(bytes);
  const entry = model.metadataProps.find((p) => p.key === CARD_METADATA_KEY);
  if (!entry?.value)
    throw new Error(`ONNX model has no ${CARD_METADATA_KEY} metadata: not exported by minisr (give its card or --preset/--weights)`);
  let raw: unknown;
  try {
    raw = JSON.parse(entry.value);
  } catch (e) {
    throw new Error(`ONNX metadata ${CARD_METADATA_KEY} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseCard(raw, `ONNX metadata ${CARD_METADATA_KEY}`);
}

/** The parameter initializers of an exported model, checked against the config's parameter shapes. */
export function weightsFromOnnx(bytes: Uint8Array, config: ModelConfig, opts: { partial?: boolean } = {}): StateDict {
  const g = decode(bytes).graph as onnxProto.onnx.GraphProto;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const out: StateDict = new Map();
  for (const [key, shape] of modelParamShapes(config)) {
    const t = inits.get(key);
    const dims = (t?.dims as number[] | undefined)?.map(Number) ?? [];
    const same = t !== undefined && t.dataType === onnx.TensorProto.DataType.FLOAT && dims.join(',') === shape.join(',');
    // Partial (an x3/x4 network started from an x2 model): what does not match is left out.
    if (opts.partial && !same) continue;
    if (!t) throw new Error(`ONNX model has no initializer for parameter ${key}`);
    if (!same) {
      throw new RangeError(`ONNX initializer ${key}: type ${t.dataType} [${dims.join(', ')}], expected float [${shape.join(', ')}]`);
    }
    const n = dims.reduce((a, b) => a * b, 1);
    // Copy: rawData is a view into the protobuf buffer at an arbitrary (unaligned) offset.
    const data = t.rawData?.length ? new Float32Array(Uint8Array.from(t.rawData).buffer) : Float32Array.from(t.floatData as number[]);
    if (data.length !== n) throw new RangeError(`ONNX initializer ${key} holds ${data.length} values, shape needs ${n}`);
    out.set(key, float32Tensor(dims, data));
  }
  return out;
}

function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`not a valid ONNX model: ${(e as Error).message}`, { cause: e });
  }
}

/** Extends the image to h x w by mirroring its bottom and right edges (edge pixel repeated once). */
function mirrorPad(img: PlanarImage, h: number, w: number): PlanarImage {
  if (h === img.height && w === img.width) return img;
  if (h > 2 * img.height || w > 2 * img.width) throw new RangeError(`image ${img.width}x${img.height} is too small to pad to ${w}x${h}`);
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const sy = y < img.height ? y : 2 * img.height - 1 - y;
      for (let x = 0; x < w; x++) {
        const sx = x < img.width ? x : 2 * img.width - 1 - x;
        data[(c * h + y) * w + x] = img.data[(c * img.height + sy) * img.width + sx]!;
      }
    }
  }
  return { width: w, height: h, channels: 3, data };
}

function crop(img: PlanarImage, h: number, w: number): PlanarImage {
  if (h === img.height && w === img.width) return img;
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++)
      data.set(img.data.subarray((c * img.height + y) * img.width, (c * img.height + y) * img.width + w), (c * h + y) * w);
  }
  return { width: w, height: h, channels: 3, data };
}
