import { unzipSync } from 'fflate';
import type { DType, HostTensor, StateDict } from './tensor';
import { numel } from './tensor';
import { ITEM_SIZE, tensorFromBytes } from './dtypes';
import type { GlobalTable } from './pickle';
import { PyGlobal, unpickle } from './pickle';

/** Which entry of a checkpoint dict holds the weights; auto-detected when not given. */
export type StateDictKey = 'params' | 'params_ema' | 'state_dict' | 'model' | (string & {});
export interface PthOptions {
  key?: StateDictKey;
}
/** Tried in this order when no key is given (BasicSR saves `params`, others vary). */
const AUTO_KEYS = ['params', 'params_ema', 'state_dict', 'model'] as const;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/**
 * Storage types by global name, with their element size. Those without a dtype parse (so
 * e.g. float64 optimizer state does not block loading), but fail if a chosen tensor uses them.
 */
const STORAGE_TYPES: Readonly<Record<string, { dtype?: DType; itemSize: number }>> = {
  'torch.FloatStorage': { dtype: 'float32', itemSize: 4 },
  'torch.HalfStorage': { dtype: 'float16', itemSize: 2 },
  'torch.BFloat16Storage': { dtype: 'bfloat16', itemSize: 2 },
  'torch.LongStorage': { dtype: 'int64', itemSize: 8 },
  'torch.IntStorage': { dtype: 'int32', itemSize: 4 },
  'torch.ByteStorage': { dtype: 'uint8', itemSize: 1 },
  'torch.BoolStorage': { dtype: 'bool', itemSize: 1 },
  'torch.DoubleStorage': { itemSize: 8 },
  'torch.ShortStorage': { itemSize: 2 },
  'torch.CharStorage': { itemSize: 1 },
};
const TORCH_DTYPES = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'] as const;

/** A storage named by a persistent id; its bytes are located once the whole file is parsed. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly type: string,
    readonly numel: number,
    /** Element offset into the root storage (legacy views); 0 otherwise. */
    readonly viewOffset = 0,
  ) {}

  get dtype(): DType {
    const dtype = STORAGE_TYPES[this.type]!.dtype;
    if (!dtype) throw new Error(`storage type '${this.type}' is not supported`);
    return dtype;
  }

  get itemSize(): number {
    return STORAGE_TYPES[this.type]!.itemSize;
  }
}

/** What `_rebuild_tensor_v2` returns: materialised only if it ends up in the chosen state dict. */
class PendingTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

type StorageBytes = (ref: StorageRef) => Uint8Array;

function torchGlobals(): GlobalTable {
  const rebuild = (args: readonly unknown[]) => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef)) throw new Error('first argument is not a storage');
    return new PendingTensor(storage, count(offset, 'storage offset'), counts(size, 'size'), counts(stride, 'stride'));
  };
  const table: [string, ((args: readonly unknown[]) => unknown) | undefined][] = [
    ['collections.OrderedDict', (args) => new Map(Array.isArray(args[0]) ? pairs(args[0]) : [])],
    ['torch._utils._rebuild_tensor_v2', rebuild],
    ['torch._utils._rebuild_tensor', rebuild],
    ['torch._utils._rebuild_parameter', (args) => args[0]],
    ['torch.Size', (args) => counts(args[0] ?? [], 'torch.Size')],
    ...Object.keys(STORAGE_TYPES).map((name) => [name, undefined] as [string, undefined]),
    ...TORCH_DTYPES.map((name) => [`torch.${name}`, undefined] as [string, undefined]),
  ];
  return new Map(table.map(([name, call]) => [name, new PyGlobal(name, call)]));
}

function pairs(items: unknown[]): [unknown, unknown][] {
  return items.map((p) => {
    if (!Array.isArray(p) || p.length !== 2) throw new Error('OrderedDict items are not pairs');
    return [p[0], p[1]];
  });
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what} ${String(v)} is not a non-negative integer`);
  return v;
}

function counts(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a tuple`);
  return v.map((x) => count(x, what));
}

function storageType(type: unknown): string {
  const name = type instanceof PyGlobal ? type.qualname : String(type);
  if (!STORAGE_TYPES[name]) throw new Error(`unknown storage type '${name}'`);
  return name;
}

/** Reads a PyTorch zip-format checkpoint (`<prefix>/data.pkl` + `<prefix>/data/<key>`). */
export function readPthZip(bytes: Uint8Array, opts: PthOptions = {}): StateDict {
  const files = unzipEntries(bytes);
  const pkl = Object.keys(files)
    .filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'))
    .sort((a, b) => a.length - b.length)[0];
  if (!pkl) throw new CheckpointError('zip archive has no data.pkl: not a PyTorch checkpoint');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw new CheckpointError('big-endian checkpoints are not supported');
  }

  const refs = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown) => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error('persistent id is not a storage');
    const [, type, key, , size] = pid;
    if (typeof key !== 'string') throw new Error('storage key is not a string');
    const ref = refs.get(key) ?? new StorageRef(key, storageType(type), count(size, 'storage size'));
    refs.set(key, ref);
    return ref;
  };
  const root = unpickle(files[pkl]!, { globals: torchGlobals(), persistentLoad }).value;
  return materialise(root, opts, (ref) => {
    const data = files[`${prefix}data/${ref.key}`];
    if (!data) throw new CheckpointError(`storage '${ref.key}' is missing from the archive`);
    return data;
  });
}

function unzipEntries(bytes: Uint8Array): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, {
      filter: (f) => {
        // Deflate cannot expand more than ~1032:1; beyond that the sizes are lies (or a bomb).
        const limit = f.compression === 0 ? f.size : f.size * 1032 + 1024;
        if (f.originalSize > limit) throw new CheckpointError(`zip entry '${f.name}' claims ${f.originalSize} bytes from ${f.size}`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`corrupt zip archive (${(e as Error).message})`);
  }
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/**
 * Reads the legacy (pre-1.6, non-zip) format: pickled magic number, protocol version and sys
 * info, then the object pickle, then the storage key list, then each storage as int64 numel +
 * raw bytes, in key-list order.
 */
export function readPthLegacy(bytes: Uint8Array, opts: PthOptions = {}): StateDict {
  const none: GlobalTable = new Map();
  const magic = unpickle(bytes, { globals: none });
  if (magic.value !== LEGACY_MAGIC) throw new CheckpointError('not a legacy PyTorch file (bad magic number)');
  const protocol = unpickle(bytes, { globals: none, start: magic.end });
  if (protocol.value !== LEGACY_PROTOCOL) throw new CheckpointError(`unsupported legacy protocol version ${String(protocol.value)}`);
  const sysInfo = unpickle(bytes, { globals: none, start: protocol.end });
  if (!(sysInfo.value instanceof Map) || sysInfo.value.get('little_endian') !== true) {
    throw new CheckpointError('big-endian (or unlabelled) legacy checkpoints are not supported');
  }

  const roots = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown) => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 6) throw new Error('persistent id is not a storage');
    const [, type, key, , size, view] = pid;
    if (typeof key !== 'string') throw new Error('storage key is not a string');
    const root = roots.get(key) ?? new StorageRef(key, storageType(type), count(size, 'storage size'));
    roots.set(key, root);
    if (view === null || view === undefined) return root;
    if (!Array.isArray(view) || view.length !== 3) throw new Error('storage view is not (key, offset, size)');
    return new StorageRef(key, root.type, count(view[2], 'view size'), count(view[1], 'view offset'));
  };
  const main = unpickle(bytes, { globals: torchGlobals(), persistentLoad, start: sysInfo.end });
  const keys = unpickle(bytes, { globals: none, start: main.end });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new CheckpointError('legacy storage key list is not a list of strings');
  }

  const located = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const ref = roots.get(key);
    if (!ref) throw new CheckpointError(`legacy storage '${key}' is listed but never used`);
    if (pos + 8 > bytes.length) throw new CheckpointError(`truncated file: storage '${key}' size is missing`);
    const n = view.getBigInt64(pos, true);
    const len = Number(n) * ref.itemSize;
    if (n < 0n || pos + 8 + len > bytes.length) throw new CheckpointError(`truncated file: storage '${key}' needs ${n} elements`);
    located.set(key, bytes.subarray(pos + 8, pos + 8 + len));
    pos += 8 + len;
  }
  return materialise(main.value, opts, (ref) => {
    const data = located.get(ref.key);
    if (!data) throw new CheckpointError(`storage '${ref.key}' is not in the file`);
    return data.subarray(ref.viewOffset * ref.itemSize);
  });
}

/** Picks the state dict out of the unpickled root and turns its entries into host tensors. */
function materialise(root: unknown, opts: PthOptions, storageBytes: StorageBytes): StateDict {
  const dict = selectStateDict(root, opts.key);
  const out: StateDict = new Map();
  for (const [name, value] of dict) {
    if (typeof name !== 'string') throw new CheckpointError(`state dict has a non-string key ${String(name)}`);
    if (!(value instanceof PendingTensor)) throw new CheckpointError(`state dict entry '${name}' is not a tensor`);
    try {
      out.set(name, buildTensor(value, storageBytes));
    } catch (e) {
      throw new CheckpointError(`tensor '${name}': ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}

function selectStateDict(root: unknown, key: StateDictKey | undefined): Map<unknown, unknown> {
  if (!(root instanceof Map)) throw new CheckpointError('checkpoint does not hold a dict');
  const keys = () => [...root.keys()].map(String).join(', ');
  if (key !== undefined) {
    const picked = root.get(key);
    if (!(picked instanceof Map)) throw new CheckpointError(`checkpoint has no state dict under '${key}' (keys: ${keys()})`);
    return picked;
  }
  if ([...root.values()].every((v) => v instanceof PendingTensor)) return root;
  for (const k of AUTO_KEYS) {
    const picked = root.get(k);
    if (picked instanceof Map) return picked;
  }
  throw new CheckpointError(`no state dict found: top-level keys are ${keys()} (pass a key)`);
}

function buildTensor(t: PendingTensor, storageBytes: StorageBytes): HostTensor {
  const { storage, offset, size, stride } = t;
  if (size.length !== stride.length) throw new Error(`size [${size}] and stride [${stride}] differ in rank`);
  const n = numel(size);
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d]! - 1) * stride[d]!;
  if (n > 0 && last >= storage.numel) {
    throw new Error(`view (offset ${offset}, size [${size}], stride [${stride}]) exceeds its storage of ${storage.numel} elements`);
  }
  const dtype = storage.dtype;
  const item = ITEM_SIZE[dtype];
  const raw = storageBytes(storage);
  if (raw.length < storage.numel * item) {
    throw new Error(`storage '${storage.key}' has ${raw.length} bytes, needs ${storage.numel * item}`);
  }
  if (isContiguous(size, stride)) {
    return tensorFromBytes(raw.subarray(offset * item, (offset + n) * item), dtype, size);
  }
  return tensorFromBytes(gather(raw, item, offset, size, stride), dtype, size);
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}

/** Copies a strided view into contiguous row-major bytes. */
function gather(raw: Uint8Array, item: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const n = numel(size);
  const out = new Uint8Array(n * item);
  const idx = new Array<number>(size.length).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < item; b++) out[i * item + b] = raw[src * item + b]!;
    // Odometer increment over the output index, tracking the source element offset.
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d]! < size[d]!) {
        src += stride[d]!;
        break;
      }
      src -= (size[d]! - 1) * stride[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
