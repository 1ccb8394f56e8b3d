import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLatestCheckpoint } from '../../engine/train/run-dir';

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('loadLatestCheckpoint', () => {
  it('has nothing to resume from a run folder without latest.json', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'minisr-run-'));
    expect(await loadLatestCheckpoint(dir, ['w'])).toBeUndefined();
  });

  it('names a latest.json that does not point at a checkpoint, whatever JSON it holds', async () => {
    dir ??= await mkdtemp(path.join(tmpdir(), 'minisr-run-'));
    for (const [text, shown] of [
      ['null', 'null'],
      ['[1]', '[1]'],
      ['{"checkpoint":"../../etc/passwd"}', '"../../etc/passwd"'],
    ] as const) {
      await writeFile(path.join(dir, 'latest.json'), text);
      await expect(loadLatestCheckpoint(dir, ['w'])).rejects.toThrow(`latest.json: bad checkpoint reference ${shown}`);
    }
  });
});
