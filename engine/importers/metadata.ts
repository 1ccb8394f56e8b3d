import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * What an imported model's ONNX says about itself (metadata `minisr.import`), so the upscaler
 * tiles it right even without a model card beside it: the measured margin and the input multiple.
 */
export interface ImportMetadata {
  readonly scale: number;
  /** Input pixels per side a change spreads (the probe's measure): the tiler's receptive radius. */
  readonly margin: number;
  readonly inputMultiple: number;
  readonly architecture: string;
}

export const IMPORT_METADATA_KEY = 'minisr.import';

/** The ONNX bytes with `minisr.import` set (other metadata kept). */
export function withImportMetadata(bytes: Uint8Array, info: ImportMetadata): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const entry = onnx.StringStringEntryProto.create({ key: IMPORT_METADATA_KEY, value: JSON.stringify(info) });
  model.metadataProps = [...model.metadataProps.filter((p) => p.key !== IMPORT_METADATA_KEY), entry];
  return onnx.ModelProto.encode(model).finish();
}

/** Parsed `minisr.import` metadata, or undefined when absent or malformed (then nothing is assumed). */
export function readImportMetadata(metadata: Readonly<Record<string, string>>): ImportMetadata | undefined {
  const raw = metadata[IMPORT_METADATA_KEY];
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const o = v as Partial<ImportMetadata>;
  const int = (x: unknown, min: number) => typeof x === 'number' && Number.isInteger(x) && x >= min;
  if (!int(o.scale, 1) || !int(o.margin, 0) || !int(o.inputMultiple, 1) || typeof o.architecture !== 'string') return undefined;
  return o as ImportMetadata;
}
