import { describe, expect, test } from 'vitest';
import { planarFromInterleaved, planarToUint16, planarToUint8, quantisePlanarUint8, toRgb } from '../../engine/image/planar';

describe('PlanarImage converters', () => {
  test('uint8 HWC -> CHW planar -> uint8 round-trips and splits channels', () => {
    const data = new Uint8Array([0, 128, 255, 10, 20, 30]); // 2x1 RGB
    const p = planarFromInterleaved({ width: 2, height: 1, channels: 3, data });
    expect(Array.from(p.data)).toEqual([0, 10, 128, 20, 255, 30].map((v) => Math.fround(v / 255)));
    expect(Array.from(planarToUint8(p).data)).toEqual(Array.from(data));
  });

  test('uint16 round-trips through 1/65535 steps', () => {
    const data = new Uint16Array([0, 1, 32768, 65535]);
    const p = planarFromInterleaved({ width: 2, height: 2, channels: 1, data });
    expect(p.data[3]).toBe(1);
    expect(Array.from(planarToUint16(p).data)).toEqual(Array.from(data));
  });

  test('quantising clamps to [0, 1], rounds half up and maps NaN to 0', () => {
    const p = { width: 5, height: 1, channels: 1, data: new Float32Array([-0.2, 1.7, 0.5 / 255 + 1e-7, 127.49 / 255, NaN]) };
    expect(Array.from(planarToUint8(p).data)).toEqual([0, 255, 1, 127, 0]);
    expect(Array.from(quantisePlanarUint8(p).data)).toEqual([0, 1, Math.fround(1 / 255), Math.fround(127 / 255), 0]);
  });

  test('toRgb repeats a grey plane and rejects other channel counts', () => {
    const grey = { width: 2, height: 1, channels: 1, data: new Float32Array([0.25, 0.75]) };
    expect(Array.from(toRgb(grey).data)).toEqual([0.25, 0.75, 0.25, 0.75, 0.25, 0.75]);
    expect(() => toRgb({ width: 1, height: 1, channels: 2, data: new Float32Array(2) })).toThrow(/1 or 3 channels/);
  });

  test('a buffer of the wrong length is refused with the sizes named', () => {
    expect(() => planarFromInterleaved({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow(
      /11 values, 2x2x3 needs 12/,
    );
  });
});
