import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTorch } from '../../engine/importers/pth';
import { loadStateDict } from '../../engine/io/checkpoint';
import { ModelSession } from '../../engine/runtime/session';

/**
 * Golden forwards: each checkpoint and its input/output pair were made by PyTorch running the
 * reference architecture code (BasicSR, Real-ESRGAN, xinntao/ESRGAN, spandrel's original-ESRGAN, EDSR-PyTorch) on
 * seeded random weights: test/fixtures/import/make_goldens.py. Our import of the checkpoint,
 * run by onnxruntime, must give the same output.
 */
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');

const CASES = [
  { file: 'rrdbnet-x4', architecture: 'RRDBNet (ESRGAN, BasicSR layout)', scale: 4, config: { num_feat: 4, num_block: 2, num_grow_ch: 4 } },
  { file: 'rrdbnet-x2', architecture: 'RRDBNet (ESRGAN, BasicSR layout)', scale: 2, config: { num_feat: 8, num_block: 1, num_grow_ch: 4 } },
  {
    file: 'esrgan-old-x4',
    architecture: 'RRDBNet (ESRGAN, original layout)',
    scale: 4,
    config: { num_feat: 8, num_block: 1, num_grow_ch: 4 },
  },
  {
    file: 'esrgan-repo-x4',
    architecture: 'RRDBNet (ESRGAN repository layout)',
    scale: 4,
    config: { num_feat: 8, num_block: 1, num_grow_ch: 4 },
  },
  { file: 'srvgg-x4', architecture: 'SRVGGNetCompact (Real-ESRGAN)', scale: 4, config: { num_feat: 8, num_conv: 2 } },
  { file: 'edsr-official-x2', architecture: 'EDSR (EDSR-PyTorch layout)', scale: 2, config: { num_feat: 8, num_block: 2, res_scale: 1 } },
  { file: 'edsr-official-x3', architecture: 'EDSR (EDSR-PyTorch layout)', scale: 3, config: { num_feat: 8, num_block: 2, res_scale: 1 } },
  { file: 'edsr-official-x4', architecture: 'EDSR (EDSR-PyTorch layout)', scale: 4, config: { num_feat: 8, num_block: 2, res_scale: 1 } },
] as const;

describe('importing .pth checkpoints: forward equals the reference PyTorch code', () => {
  for (const c of CASES) {
    it(`${c.file}: ${c.architecture}, x${c.scale}, max abs error <= 1e-4`, async () => {
      const imported = await importTorch(await readFile(path.join(FIXTURES, `${c.file}.pth`)));
      expect(imported.architecture).toBe(c.architecture);
      expect(imported.scale).toBe(c.scale);
      expect(imported.config).toMatchObject(c.config);
      const io = await loadStateDict(path.join(FIXTURES, `${c.file}.io.pth`));
      const input = io.get('input')!;
      const expected = io.get('output')!;
      const session = await ModelSession.create(imported.onnx);
      try {
        const out = (await session.run({ input })).output!;
        expect(out.shape).toEqual(expected.shape);
        let maxErr = 0;
        const a = out.data as Float32Array;
        const b = expected.data as Float32Array;
        for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
        expect(maxErr).toBeLessThanOrEqual(1e-4);
        // The reference output is not trivially small: the comparison has something to compare.
        expect(Math.max(...Array.from(b, Math.abs))).toBeGreaterThan(0.05);
      } finally {
        await session.release();
      }
    });
  }
});
