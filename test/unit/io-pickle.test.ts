import { describe, expect, it } from 'vitest';
import { PyGlobal, UnpicklingError, unpickle } from '../../engine/io/pickle';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
/** Builds pickle bytes from latin1 strings and raw byte lists. */
const pk = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

const globals = new Map([['collections.OrderedDict', new PyGlobal('collections.OrderedDict', () => new Map())]]);
const load = (bytes: Uint8Array) => unpickle(bytes, { globals }).value;

// Produced by CPython: pickle.dumps(value, protocol=p) for
// {'a': [1, -1, 300, 70000, -70000, 2**40, -2**70, 1.5, None, True, False], 'b': (1, 2),
//  'c': (1, 2, 3, 4), 'd': b'xy', 'e': 'hé', 'f': OrderedDict([('k', 1)])}
const VALUES_P4 =
  '80049598000000000000007d94288c0161945d94284b014affffffff4d2c014a701101004a90eefeff8a060000000000018a090000000000000000c0473ff80000000000004e8889658c0162944b014b0286948c016394284b014b024b034b0474948c01649443027879948c0165948c0368c3a9948c0166948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b0173752e';

describe('restricted unpickler: values', () => {
  for (const proto of [4, 5]) {
    it(`decodes CPython protocol ${proto} output`, () => {
      const bytes = hex(VALUES_P4);
      bytes[1] = proto;
      const v = load(bytes) as Map<string, unknown>;
      expect([...v.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(v.get('a')).toEqual([1, -1, 300, 70000, -70000, 2 ** 40, -(2n ** 70n), 1.5, null, true, false]);
      expect(v.get('b')).toEqual([1, 2]);
      expect(v.get('c')).toEqual([1, 2, 3, 4]);
      expect(v.get('d')).toEqual(Uint8Array.from([0x78, 0x79]));
      expect(v.get('e')).toBe('hé');
      expect(v.get('f')).toEqual(new Map([['k', 1]]));
    });
  }

  it('returns the offset after STOP so back-to-back pickles can be read', () => {
    const one = pk([0x80, 2, 0x4b, 7], '.');
    const two = pk([0x80, 2], 'X', u32(2), 'hi', '.');
    const both = new Uint8Array([...one, ...two]);
    const first = unpickle(both, { globals });
    expect(first).toEqual({ value: 7, end: one.length });
    expect(unpickle(both, { globals, start: first.end }).value).toBe('hi');
  });
});

describe('restricted unpickler: refuses to execute anything', () => {
  const cases: [string, Uint8Array, string][] = [
    // CPython: pickle.dumps(obj, 2) where obj.__reduce__ returns (os.system, ('echo pwned',))
    [
      'posix.system via GLOBAL + REDUCE',
      hex('800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e'),
      'posix.system',
    ],
    ['os.system spelled by hand', pk([0x80, 2], 'cos\nsystem\n', 'X', u32(2), 'id', [0x85], 'R.'), 'os.system'],
    // (builtins.eval, ('1+1',)) at protocol 4: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL
    [
      'builtins.eval via STACK_GLOBAL',
      hex('8004951f000000000000008c086275696c74696e73948c046576616c9493948c03312b3194859452942e'),
      'builtins.eval',
    ],
    [
      '__builtin__.eval (protocol 2)',
      hex('8002635f5f6275696c74696e5f5f0a6576616c0a71005803000000312b3171018571025271032e'),
      '__builtin__.eval',
    ],
    [
      'subprocess.Popen (protocol 5)',
      hex('80059524000000000000008c0a73756270726f63657373948c05506f70656e9493945d948c026c739461859452942e'),
      'subprocess.Popen',
    ],
    // CPython protocol 2 spells bytes as _codecs.encode(...): also not allowed.
    ['_codecs.encode', pk([0x80, 2], 'c_codecs\nencode\n', 'X', u32(1), 'x', 'X', u32(6), 'latin1', [0x86], 'R.'), '_codecs.encode'],
  ];
  for (const [what, bytes, global] of cases) {
    it(`rejects ${what}, naming the global`, () => {
      expect(() => load(bytes)).toThrow(UnpicklingError);
      expect(() => load(bytes)).toThrow(`global '${global}' is not on the allow-list`);
    });
  }

  it('refuses to call an allowed global that is not callable', () => {
    const table = new Map([['torch.FloatStorage', new PyGlobal('torch.FloatStorage')]]);
    const bytes = pk([0x80, 2], 'ctorch\nFloatStorage\n', ')R.');
    expect(() => unpickle(bytes, { globals: table })).toThrow("global 'torch.FloatStorage' is not callable");
  });

  it('rejects persistent ids when no loader is given', () => {
    expect(() => load(pk([0x80, 2], 'X', u32(1), '0', 'Q.'))).toThrow('no persistent loader');
  });
});

describe('restricted unpickler: malformed input', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['an unknown opcode', pk([0x80, 2, 0xff], '.'), /unsupported pickle opcode 0xff at byte 2/],
    ['a protocol-0 opcode (INT)', pk([0x80, 2], 'I1\n.'), /unsupported pickle opcode 0x49 'I'/],
    ['protocol 1', pk([0x80, 1], 'N.'), /unsupported pickle protocol 1/],
    ['stack underflow on REDUCE', pk([0x80, 2], 'R.'), /stack underflow.*REDUCE at byte 2/],
    ['stack underflow on STOP', pk([0x80, 2], '.'), /stack underflow.*STOP/],
    ['TUPLE without MARK', pk([0x80, 2, 0x4b, 1], 't.'), /no MARK/],
    ['SETITEM on a list', pk([0x80, 2], ']', [0x4b, 1, 0x4b, 2], 's.'), /cannot set items on a tuple\/list/],
    ['APPEND to a dict', pk([0x80, 2], '}', [0x4b, 1], 'a.'), /cannot append to a dict/],
    ['BINGET of a missing memo key', pk([0x80, 2], 'h', [9], '.'), /memo key 9 was never stored/],
    ['a string running past the end', pk([0x80, 2], 'X', u32(1000), 'abc'), /truncated pickle: needs 1000 more bytes, 3 left/],
    ['a huge BINUNICODE8 length', pk([0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /beyond the end of data/],
    ['a huge LONG4', pk([0x80, 2, 0x8b], u32(1 << 30)), /LONG4 of 1073741824 bytes/],
    ['a missing STOP', pk([0x80, 2, 0x4b, 1]), /no STOP opcode/],
    ['an unterminated GLOBAL', pk([0x80, 2], 'cos'), /not newline-terminated/],
    ['invalid UTF-8', pk([0x80, 2], 'X', u32(2), [0xc3, 0x28], '.'), /not valid UTF-8/],
    ['zero bytes', new Uint8Array(0), /no STOP opcode/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => load(bytes)).toThrow(UnpicklingError);
      expect(() => load(bytes)).toThrow(message);
    });
  }

  it('never throws anything but UnpicklingError on every truncation of a valid pickle', () => {
    const full = hex(VALUES_P4);
    for (let n = 0; n < full.length; n++) {
      expect(() => load(full.subarray(0, n)), `cut at ${n}`).toThrow(UnpicklingError);
    }
  });
});
