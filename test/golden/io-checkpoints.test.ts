import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadStateDict, matchStateDict } from '../../engine/io/checkpoint';
import { readPthZip } from '../../engine/io/pth';
import { readSafetensors } from '../../engine/io/safetensors';
import type { StateDict } from '../../engine/io/tensor';
import { numel } from '../../engine/io/tensor';
import { sharedAvailable, sharedPath } from '../helpers/shared';

const have = sharedAvailable('io checkpoint tests on ../shared weights and goldens');
const BUFFER = /(relative_position_index|attn_mask)$/;
const learnable = (sd: StateDict) => [...sd].filter(([k]) => !BUFFER.test(k));
const paramCount = (sd: StateDict) => learnable(sd).reduce((n, [, t]) => n + numel(t.shape), 0);

/** SwinIR's relative_position_index for a square window: (dh + ws - 1) * (2ws - 1) + (dw + ws - 1). */
function relativePositionIndex(ws: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < ws * ws; i++) {
    for (let j = 0; j < ws * ws; j++) {
      const dh = Math.floor(i / ws) - Math.floor(j / ws);
      const dw = (i % ws) - (j % ws);
      out.push(BigInt((dh + ws - 1) * (2 * ws - 1) + dw + ws - 1));
    }
  }
  return out;
}

/** SwinIR's calculate_mask: -100 between tokens of a shifted window that came from different regions. */
function shiftedWindowMask(size: number, ws: number, shift: number): number[] {
  const region = (x: number) => (x < size - ws ? 0 : x < size - shift ? 1 : 2);
  const out: number[] = [];
  for (let wy = 0; wy < size / ws; wy++) {
    for (let wx = 0; wx < size / ws; wx++) {
      const label = (t: number) => region(wy * ws + Math.floor(t / ws)) * 3 + region(wx * ws + (t % ws));
      for (let i = 0; i < ws * ws; i++) for (let j = 0; j < ws * ws; j++) out.push(label(i) === label(j) ? 0 : -100);
    }
  }
  return out;
}

describe.skipIf(!have)('EDSR-baseline x2 weights (saved from cuda:0)', () => {
  it('has 1,369,859 parameters under BasicSR key names and shapes', async () => {
    const sd = await loadStateDict(sharedPath('weights/edsr_baseline_x2.pth'));
    expect(sd.size).toBe(72);
    expect(paramCount(sd)).toBe(1_369_859);
    const shapes = Object.fromEntries([...sd].map(([k, t]) => [k, t.shape]));
    expect(shapes['conv_first.weight']).toEqual([64, 3, 3, 3]);
    expect(shapes['body.0.conv1.weight']).toEqual([64, 64, 3, 3]);
    expect(shapes['body.15.conv2.bias']).toEqual([64]);
    expect(shapes['upsample.0.weight']).toEqual([256, 64, 3, 3]);
    expect(shapes['conv_last.weight']).toEqual([3, 64, 3, 3]);
    expect([...sd.values()].every((t) => t.dtype === 'float32' && t.data instanceof Float32Array)).toBe(true);
  });

  it('matches values read independently (CPython zipfile + numpy on the raw storages)', async () => {
    const sd = await loadStateDict(sharedPath('weights/edsr_baseline_x2.pth'));
    const w = sd.get('conv_first.weight')!.data as Float32Array;
    expect(Array.from(w.subarray(0, 3))).toEqual([0.0015767153818160295, 0.10403064638376236, -0.16026057302951813]);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(-1.1826124168655952, 4);
    expect(Array.from(sd.get('conv_last.bias')!.data as Float32Array)).toEqual([
      -0.009715275838971138, 0.012876889668405056, 0.0344245545566082,
    ]);
  });

  it('cut in half, or with its zip header bytes flipped, fails with a clear error', async () => {
    const bytes = readFileSync(sharedPath('weights/edsr_baseline_x2.pth'));
    expect(() => readPthZip(bytes.subarray(0, bytes.length >> 1))).toThrow(/corrupt zip archive/);
    const flipped = Uint8Array.from(bytes);
    for (let i = 0; i < 4; i++) flipped[i] = flipped[i]! ^ 0xff;
    await expect(loadStateDict(flipped)).rejects.toThrow(/unrecognised checkpoint format/);
    // Corrupt the first opcode of data.pkl, the archive's first entry (data starts after the local header).
    const pkl = Uint8Array.from(bytes);
    const view = new DataView(pkl.buffer);
    const dataStart = 30 + view.getUint16(26, true) + view.getUint16(28, true);
    pkl[dataStart] = 0xff;
    expect(() => readPthZip(pkl)).toThrow(/unsupported pickle opcode 0xff at byte 0/);
  });
});

describe.skipIf(!have)('golden .pth files', () => {
  const cases = JSON.parse(readFileSync(sharedPath('golden/cases.json'), 'utf8')) as Record<string, { params: number }>;

  for (const name of ['edsr_mini', 'swinir_mini', 'swinir_light']) {
    it(`${name}: parameter count matches cases.json`, async () => {
      const sd = await loadStateDict(sharedPath(`golden/${name}_x2_golden.pth`));
      expect(paramCount(sd)).toBe(cases[name]!.params);
    });
  }

  for (const name of ['edsr_mini', 'swinir_mini']) {
    it(`${name}: learnable keys and shapes agree with the grad.<param> entries of the gradient golden`, async () => {
      const sd = await loadStateDict(sharedPath(`golden/${name}_x2_golden.pth`));
      const grads = (await readSafetensors(sharedPath(`golden/${name}_x2_grad.safetensors`))).tensors;
      const expected = new Map(
        [...grads].filter(([k]) => k.startsWith('grad.')).map(([k, t]) => [k.slice('grad.'.length), t.shape] as const),
      );
      expect(expected.size).toBe(learnable(sd).length);
      expect(matchStateDict(expected, sd, { ignore: (k) => BUFFER.test(k) })).toHaveLength(expected.size);
    });
  }

  it('swinir_light: int64 relative_position_index and float attn_mask buffers hold SwinIR values', async () => {
    const sd = await loadStateDict(sharedPath('golden/swinir_light_x2_golden.pth'));
    const rpi = [...sd].filter(([k]) => k.endsWith('relative_position_index'));
    const masks = [...sd].filter(([k]) => k.endsWith('attn_mask'));
    expect(rpi.length).toBeGreaterThan(0);
    expect(masks.length).toBeGreaterThan(0);
    const wantIndex = relativePositionIndex(8);
    for (const [k, t] of rpi) {
      expect(t.dtype, k).toBe('int64');
      expect(t.data, k).toBeInstanceOf(BigInt64Array);
      expect(t.shape, k).toEqual([64, 64]);
      expect(Array.from(t.data as BigInt64Array), k).toEqual(wantIndex);
    }
    const wantMask = shiftedWindowMask(64, 8, 4);
    for (const [k, t] of masks) {
      expect(t.dtype, k).toBe('float32');
      expect(t.shape, k).toEqual([64, 64, 64]);
      expect(Array.from(t.data as Float32Array), k).toEqual(wantMask);
    }
  });
});

describe.skipIf(!have)('golden safetensors', () => {
  it('edsr_mini forward: input/output pairs and the weights named in __metadata__', async () => {
    const { tensors, metadata } = await readSafetensors(sharedPath('golden/edsr_mini_x2_forward.safetensors'));
    expect(metadata).toEqual({ weights: 'edsr_mini_x2_golden.pth' });
    expect([...tensors.keys()]).toEqual(['input_24x32', 'output_24x32', 'input_17x29', 'output_17x29']);
    expect(tensors.get('input_17x29')!.shape).toEqual([1, 3, 17, 29]);
    expect(tensors.get('output_17x29')!.shape).toEqual([1, 3, 34, 58]);
    const input = tensors.get('input_24x32')!.data as Float32Array;
    expect(input.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('edsr_baseline forward names the shared weights file', async () => {
    const { metadata } = await readSafetensors(sharedPath('golden/edsr_baseline_x2_forward.safetensors'));
    expect(metadata.weights).toBe('edsr_baseline_x2.pth');
  });
});
