/**
 * A restricted unpickler: it interprets only the opcodes a PyTorch state dict uses (protocols
 * 2-5) and never imports or runs anything. A GLOBAL resolves only through the caller's
 * allow-list; every other global, unknown opcode, truncation or stack misuse throws.
 */

export class UnpicklingError extends Error {
  override name = 'UnpicklingError';
}

/** A global the caller allowed: a plain value (storage type, dtype) or a callable. */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly call?: (args: readonly unknown[]) => unknown,
  ) {}
}

/** Allowed globals keyed by 'module.name', e.g. 'collections.OrderedDict'. */
export type GlobalTable = ReadonlyMap<string, PyGlobal>;

export interface UnpickleOptions {
  globals: GlobalTable;
  /** Resolves BINPERSID ids (PyTorch storages); without it, persistent ids are an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Byte offset to start at (legacy .pth files hold several pickles back to back). */
  start?: number;
}

export interface Unpickled {
  value: unknown;
  /** Offset just past the STOP opcode. */
  end: number;
}

/** Python dicts (and OrderedDicts) become Maps: insertion order is file order. */
export type PyDict = Map<unknown, unknown>;

const OPNAMES: Record<number, string> = {
  0x80: 'PROTO',
  0x95: 'FRAME',
  0x2e: 'STOP',
  0x28: 'MARK',
  0x7d: 'EMPTY_DICT',
  0x5d: 'EMPTY_LIST',
  0x29: 'EMPTY_TUPLE',
  0x58: 'BINUNICODE',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4d: 'BININT2',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x47: 'BINFLOAT',
  0x4e: 'NONE',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x74: 'TUPLE',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x6c: 'LIST',
  0x64: 'DICT',
  0x73: 'SETITEM',
  0x75: 'SETITEMS',
  0x61: 'APPEND',
  0x65: 'APPENDS',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x94: 'MEMOIZE',
  0x68: 'BINGET',
  0x6a: 'LONG_BINGET',
  0x63: 'GLOBAL',
  0x93: 'STACK_GLOBAL',
  0x52: 'REDUCE',
  0x62: 'BUILD',
  0x51: 'BINPERSID',
  0x81: 'NEWOBJ',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
};

/** Longest LONG4 we accept: state dicts never hold integers anywhere near this. */
const MAX_LONG_BYTES = 64;

export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): Unpickled {
  return new Unpickler(bytes, opts).run();
}

class Unpickler {
  private pos: number;
  private opPos = 0;
  private opName = '';
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly opts: UnpickleOptions,
  ) {
    this.pos = opts.start ?? 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): Unpickled {
    for (;;) {
      if (this.pos >= this.bytes.length) {
        throw new UnpicklingError(`truncated pickle: no STOP opcode before end of data (${this.bytes.length} bytes)`);
      }
      this.opPos = this.pos;
      const op = this.bytes[this.pos++]!;
      this.opName = OPNAMES[op] ?? '';
      if (!this.opName) {
        const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
        throw new UnpicklingError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${ch} at byte ${this.opPos}`);
      }
      if (op === 0x2e) return { value: this.pop(), end: this.pos };
      this.step(op);
    }
  }

  private step(op: number): void {
    const s = this.stack;
    switch (op) {
      case 0x80: {
        // PROTO
        const p = this.u8();
        if (p < 2 || p > 5) this.fail(`unsupported pickle protocol ${p}`);
        return;
      }
      case 0x95:
        this.take(8);
        return; // FRAME: only a read-ahead hint
      case 0x28:
        this.marks.push(this.stack);
        this.stack = [];
        return;
      case 0x7d:
        s.push(new Map());
        return;
      case 0x5d:
        s.push([]);
        return;
      case 0x29:
        s.push([]);
        return;
      case 0x58:
        s.push(this.utf8(this.u32()));
        return;
      case 0x8c:
        s.push(this.utf8(this.u8()));
        return;
      case 0x8d:
        s.push(this.utf8(this.u64()));
        return;
      case 0x42:
        s.push(new Uint8Array(this.take(this.u32())));
        return;
      case 0x43:
        s.push(new Uint8Array(this.take(this.u8())));
        return;
      case 0x8e:
        s.push(new Uint8Array(this.take(this.u64())));
        return;
      case 0x4a:
        s.push(this.view.getInt32(this.advance(4), true));
        return;
      case 0x4b:
        s.push(this.u8());
        return;
      case 0x4d:
        s.push(this.view.getUint16(this.advance(2), true));
        return;
      case 0x8a:
        s.push(this.long(this.u8()));
        return;
      case 0x8b: {
        const n = this.u32();
        if (n > MAX_LONG_BYTES) this.fail(`LONG4 of ${n} bytes is larger than ${MAX_LONG_BYTES}`);
        s.push(this.long(n));
        return;
      }
      case 0x47:
        s.push(this.view.getFloat64(this.advance(8), false));
        return;
      case 0x4e:
        s.push(null);
        return;
      case 0x88:
        s.push(true);
        return;
      case 0x89:
        s.push(false);
        return;
      case 0x74: {
        const items = this.popMark();
        this.stack.push(items);
        return;
      }
      case 0x85:
        s.push(this.popN(1));
        return;
      case 0x86:
        s.push(this.popN(2));
        return;
      case 0x87:
        s.push(this.popN(3));
        return;
      case 0x6c: {
        const items = this.popMark();
        this.stack.push(items);
        return;
      }
      case 0x64: {
        const items = this.popMark();
        const dict = new Map();
        this.setItems(dict, items);
        this.stack.push(dict);
        return;
      }
      case 0x73: {
        const [k, v] = this.popN(2);
        this.setItems(this.top(), [k, v]);
        return;
      }
      case 0x75: {
        const items = this.popMark();
        this.setItems(this.top(), items);
        return;
      }
      case 0x61: {
        const v = this.pop();
        this.list(this.top()).push(v);
        return;
      }
      case 0x65: {
        const items = this.popMark();
        this.list(this.top()).push(...items);
        return;
      }
      case 0x71:
        this.memo.set(this.u8(), this.top());
        return;
      case 0x72:
        this.memo.set(this.u32(), this.top());
        return;
      case 0x94:
        this.memo.set(this.memo.size, this.top());
        return;
      case 0x68:
        s.push(this.get(this.u8()));
        return;
      case 0x6a:
        s.push(this.get(this.u32()));
        return;
      case 0x63: {
        const module = this.line();
        const name = this.line();
        s.push(this.resolve(module, name));
        return;
      }
      case 0x93: {
        const [module, name] = this.popN(2);
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
        s.push(this.resolve(module, name));
        return;
      }
      case 0x52:
      case 0x81: {
        // REDUCE, NEWOBJ: both call an allowed global with a tuple
        const [fn, args] = this.popN(2);
        this.stack.push(this.call(fn, args));
        return;
      }
      case 0x62: {
        // BUILD: only OrderedDict state (PyTorch's `_metadata`), which we drop
        this.pop();
        if (!(this.top() instanceof Map)) this.fail(`BUILD on ${describe(this.top())} is not supported`);
        return;
      }
      case 0x51: {
        const pid = this.pop();
        if (!this.opts.persistentLoad) this.fail('persistent id found but no persistent loader was given');
        try {
          s.push(this.opts.persistentLoad(pid));
        } catch (e) {
          this.fail(`persistent id: ${(e as Error).message}`);
        }
        return;
      }
      case 0x30:
        this.pop();
        return;
      case 0x31:
        this.popMark();
        return;
      case 0x32:
        s.push(this.top());
        return;
      default:
        this.fail('opcode not implemented');
    }
  }

  private resolve(module: string, name: string): PyGlobal {
    const qualname = `${module}.${name}`;
    const g = this.opts.globals.get(qualname);
    if (!g) this.fail(`global '${qualname}' is not on the allow-list; refusing to load it`);
    return g;
  }

  private call(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof PyGlobal)) this.fail(`cannot call ${describe(fn)}`);
    if (!fn.call) this.fail(`global '${fn.qualname}' is not callable`);
    if (!Array.isArray(args)) this.fail(`arguments to '${fn.qualname}' are ${describe(args)}, not a tuple`);
    try {
      return fn.call(args);
    } catch (e) {
      this.fail(`${fn.qualname}: ${(e as Error).message}`);
    }
  }

  private setItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Map)) this.fail(`cannot set items on ${describe(target)}`);
    if (items.length % 2) this.fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }

  private list(target: unknown): unknown[] {
    if (!Array.isArray(target)) this.fail(`cannot append to ${describe(target)}`);
    return target;
  }

  private get(i: number): unknown {
    if (!this.memo.has(i)) this.fail(`memo key ${i} was never stored`);
    return this.memo.get(i);
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popN(n: number): unknown[] {
    if (this.stack.length < n) this.fail(`stack underflow (needs ${n} items, has ${this.stack.length})`);
    return this.stack.splice(this.stack.length - n, n);
  }

  private popMark(): unknown[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) this.fail('no MARK on the stack');
    this.stack = outer;
    return items;
  }

  private long(n: number): number | bigint {
    const b = this.take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private line(): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0 || nl - this.pos > 1024) this.fail('GLOBAL name is not newline-terminated');
    const text = this.utf8(nl - this.pos);
    this.pos++;
    return text;
  }

  private utf8(n: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
    } catch (e) {
      if (e instanceof UnpicklingError) throw e;
      this.fail('string is not valid UTF-8');
    }
  }

  private u8(): number {
    return this.bytes[this.advance(1)]!;
  }

  private u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  private u64(): number {
    const v = this.view.getBigUint64(this.advance(8), true);
    if (v > BigInt(this.bytes.length)) this.fail(`length ${v} is beyond the end of data`);
    return Number(v);
  }

  private take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.bytes.subarray(at, at + n);
  }

  /** Reserves n bytes and returns their start; throws on truncation. */
  private advance(n: number): number {
    if (this.pos + n > this.bytes.length) {
      this.fail(`truncated pickle: needs ${n} more bytes, ${this.bytes.length - this.pos} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private fail(msg: string): never {
    throw new UnpicklingError(`pickle: ${msg} (opcode ${this.opName} at byte ${this.opPos})`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyGlobal) return `global '${v.qualname}'`;
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return 'a tuple/list';
  return `a ${typeof v}`;
}
