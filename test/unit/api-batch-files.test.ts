import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFiles } from '../../engine/api/batch-files';
import { PathPolicy } from '../../engine/api/paths';
import type { BatchRequest } from '../../engine/api/types';
import { collectInputs } from '../../engine/upscale/batch';

/**
 * The app's batch (batchFiles) takes the files the CLI's batch (collectInputs) takes, decided in
 * one place, less what the allow-list forbids; nothing is decoded here, so the files are stubs.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-batch-files-'));
  for (const f of ['in/a.png', 'in/b.JPG', 'in/.hidden.png', 'in/.cache/c.png', 'in/sub/d.webp', 'in/notes.txt', 'outside/secret.png']) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), 'x');
  }
  await mkdir(join(dir, 'in/folder.jpg'));
  await symlink(join(dir, 'in/a.png'), join(dir, 'in/link-in.png'));
  await symlink(join(dir, 'outside/secret.png'), join(dir, 'in/link-out.png'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const request = (over: Partial<BatchRequest>): BatchRequest =>
  ({
    inputs: [join(dir, 'in')],
    modelId: 'm',
    scale: 2,
    outputDir: join(dir, 'out'),
    recursive: true,
    skipExisting: false,
    ...over,
  }) as BatchRequest;

describe('batchFiles: the files of an app batch', () => {
  it('are collectInputs’ files (hidden ones and image-named folders left out), less links leading outside the allowed folder', async () => {
    const policy = new PathPolicy();
    await policy.allowRoot(join(dir, 'in'), 'read');
    const names = (files: readonly { input: string }[]) => files.map((f) => f.input.slice(join(dir, 'in').length + 1));

    const cli = await collectInputs([join(dir, 'in')], { recursive: true });
    expect(names(cli)).toEqual(['a.png', 'b.JPG', 'link-in.png', 'link-out.png', 'sub/d.webp']);
    const app = await batchFiles(request({}), join(dir, 'out'), policy, (rel) => `${rel}.out`);
    expect(names(app)).toEqual(['a.png', 'b.JPG', 'link-in.png', 'sub/d.webp']);
    expect(app.map((f) => f.output.slice(join(dir, 'out').length + 1))).toEqual([
      'a.png.out',
      'b.JPG.out',
      'link-in.png.out',
      'sub/sub/d.webp.out',
    ]);

    // Not recursive: the CLI reports the image-named folder as a failure; the app's worker takes files only.
    const flat = await collectInputs([join(dir, 'in')], { recursive: false });
    expect(names(flat)).toEqual(['a.png', 'b.JPG', 'folder.jpg', 'link-in.png', 'link-out.png']);
    expect(flat.find((i) => i.input.endsWith('folder.jpg'))?.problem).toMatch(/is a directory/);
    expect(names(await batchFiles(request({ recursive: false }), join(dir, 'out'), policy, (r) => r))).toEqual([
      'a.png',
      'b.JPG',
      'link-in.png',
    ]);

    // A glob: the same rule on both sides.
    expect(names(await batchFiles(request({ glob: '**/*.webp' }), join(dir, 'out'), policy, (r) => r))).toEqual(
      names(await collectInputs([join(dir, 'in')], { recursive: true, include: '**/*.webp' })),
    );
  });

  it('a chosen path must be allowed and exist', async () => {
    const policy = new PathPolicy();
    await policy.allowRoot(join(dir, 'in'), 'read');
    await expect(batchFiles(request({ inputs: [join(dir, 'outside')] }), join(dir, 'out'), policy, (r) => r)).rejects.toThrow(
      /not allowed to read/,
    );
    await expect(batchFiles(request({ inputs: [join(dir, 'in/gone.png')] }), join(dir, 'out'), policy, (r) => r)).rejects.toThrow(
      /gone\.png: no such file or folder/,
    );
  });
});
