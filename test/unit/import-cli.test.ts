import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { importCommand } from '../../scripts/cli/commands/import';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'minisr-import-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function runImport(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await importCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}

describe('minisr import', () => {
  it('prints the architecture, scale and parameters it found and where it wrote', async () => {
    const models = path.join(dir, 'models');
    const out = await runImport(path.join(FIXTURES, 'edsr-official-x4.pth'), '--models-dir', models, '--name', 'edsr-x4');
    // PyTorch counts 8,059: the two fixed mean-shift convs (24 values) are not learnable parameters.
    expect(out).toMatch(/found: +EDSR \(EDSR-PyTorch layout\), x4, 8,035 parameters/);
    expect(out).toContain(path.join(models, 'edsr-x4.onnx'));
    expect(out).toContain(path.join(models, 'edsr-x4.json'));
    expect((await readdir(models)).sort()).toEqual(['edsr-x4.json', 'edsr-x4.onnx']);
  });

  it('writes into MINISR_CONFIG_DIR/models by default', async () => {
    vi.stubEnv('MINISR_CONFIG_DIR', dir);
    try {
      await runImport(path.join(FIXTURES, 'srvgg-x4.pth'));
    } finally {
      vi.unstubAllEnvs();
    }
    expect((await readdir(path.join(dir, 'models'))).sort()).toEqual(['srvgg-x4.json', 'srvgg-x4.onnx']);
  });

  it('rejects a --range other than 1 or 255', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(runImport('x.onnx', '--range', '100')).rejects.toThrow(/must be 1 or 255/);
    } finally {
      err.mockRestore();
    }
  });
});
