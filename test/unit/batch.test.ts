import { mkdir, mkdtemp, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../engine/runtime/cache';
import { ExecutionProviderError } from '../../engine/runtime/select';
import { collectInputs, outputName, upscaleBatch } from '../../engine/upscale/batch';
import { tinyModel, writeTestImage } from './upscale-helpers';

const model = tinyModel('tiny');
const sessions = new SessionCache(8);
let dir: string;
const base = { model, sessions, ep: 'cpu' as const, tile: 32 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-batch-'));
});
afterAll(async () => {
  await sessions.clear();
  await rm(dir, { recursive: true, force: true });
});

async function listTree(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) out.push(...(await listTree(join(root, e.name), `${prefix}${e.name}/`)));
    else out.push(prefix + e.name);
  }
  return out;
}

describe('output names', () => {
  it('fills the template and refuses paths', () => {
    expect(outputName('{name}_{model}_x{scale}.{ext}', '/a/b/photo.JPG', 'edsr-mini', 4, 'jpg')).toBe('photo_edsr-mini_x4.jpg');
    expect(() => outputName('{model}.{ext}', '/a/p.png', 'm', 2, 'png')).toThrow(/\{name\}/);
    expect(() => outputName('../{name}.{ext}', '/a/p.png', 'm', 2, 'png')).toThrow(/not a path/);
  });

  it('fills each value once and makes what a file name cannot hold `_`', () => {
    expect(outputName('{name}-{model}.{ext}', 'sub/cat.png', 'm{ext}', 2, 'png')).toBe('cat-m{ext}.png');
    expect(outputName('{name}_{model}_x{scale}.{ext}', '/a/b\\c\n.png', 'x/y', 3, 'webp')).toBe('b_c__x_y_x3.webp');
    expect(() => outputName('{name}\\{ext}', '/a/p.png', 'm', 2, 'png')).toThrow(/not a path/);
    expect(() => outputName('{name}', '/a/..png', 'm', 2, 'png')).toThrow(/a file name is expected/);
  });
});

describe('upscaleBatch', () => {
  it('bad files each get a clear error while the others succeed', async () => {
    const src = join(dir, 'mixed');
    await mkdir(src, { recursive: true });
    await writeTestImage(join(src, 'good1.png'), 24, 20);
    await writeTestImage(join(src, 'good2.jpg'), 20, 16, { format: 'jpeg' });
    await writeTestImage(join(src, 'good3.webp'), 18, 18, { format: 'webp' });
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await writeFile(join(src, 'corrupt.png'), png.subarray(0, png.length - 40)); // truncated pixel data
    await writeFile(join(src, 'empty.png'), '');
    await writeFile(join(src, 'notes.png'), 'this is a text file, not a png\n');
    await mkdir(join(src, 'folder.jpg'));
    await writeFile(join(src, 'readme.txt'), 'ignored: not an image extension');

    const out = join(dir, 'mixed-out');
    const events: string[] = [];
    const summary = await upscaleBatch([src], { ...base, outDir: out, onEvent: (e) => e.type !== 'progress' && events.push(`${e.type}`) });
    expect(summary.succeeded.map((s) => s.output.slice(out.length + 1)).sort()).toEqual([
      'good1_tiny_x2.png',
      'good2_tiny_x2.jpg',
      'good3_tiny_x2.webp',
    ]);
    const reasons = Object.fromEntries(summary.failed.map((f) => [f.input.slice(src.length + 1), f.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['corrupt.png', 'empty.png', 'folder.jpg', 'notes.png']);
    expect(reasons['empty.png']).toMatch(/empty.png: file is empty \(0 bytes\)/);
    expect(reasons['notes.png']).toMatch(/notes.png: not an image file/);
    expect(reasons['folder.jpg']).toMatch(/folder.jpg: is a directory/);
    expect(reasons['corrupt.png']).toMatch(/corrupt.png: .*(truncated|corrupt)/);
    expect(summary.failed.find((f) => f.input.endsWith('empty.png'))!.code).toBe('empty');
    expect(summary.skipped).toEqual([]);
    expect(events.filter((e) => e === 'done')).toHaveLength(3);
    expect(await listTree(out)).toEqual(['good1_tiny_x2.png', 'good2_tiny_x2.jpg', 'good3_tiny_x2.webp']);
  });

  it('mirrors nested folders (recursive), filters by glob, and skips existing outputs', async () => {
    const src = join(dir, 'tree');
    await mkdir(join(src, 'a', 'deep'), { recursive: true });
    await mkdir(join(src, 'b'), { recursive: true });
    await writeTestImage(join(src, 'top.png'), 16, 16);
    await writeTestImage(join(src, 'a', 'one.png'), 16, 12);
    await writeTestImage(join(src, 'a', 'deep', 'two.jpg'), 12, 16, { format: 'jpeg' });
    await writeTestImage(join(src, 'b', 'three.png'), 10, 10);
    const out = join(dir, 'tree-out');

    const flat = await collectInputs([src]);
    expect(flat.map((i) => i.input.slice(src.length + 1))).toEqual(['top.png']);

    const s1 = await upscaleBatch([src], { ...base, outDir: out, recursive: true });
    expect(s1.failed).toEqual([]);
    expect(await listTree(out)).toEqual(['a/deep/two_tiny_x2.jpg', 'a/one_tiny_x2.png', 'b/three_tiny_x2.png', 'top_tiny_x2.png']);

    const s2 = await upscaleBatch([src], { ...base, outDir: out, recursive: true, skipExisting: true });
    expect(s2.succeeded).toEqual([]);
    expect(s2.skipped.map((s) => s.reason)).toEqual(['output exists', 'output exists', 'output exists', 'output exists']);

    const globbed = await collectInputs([src], { recursive: true, include: '**/*.jpg' });
    expect(globbed.map((i) => i.input.slice(src.length + 1))).toEqual(['a/deep/two.jpg']);
    const byName = await collectInputs([src], { recursive: true, include: 'o*.png' });
    expect(byName.map((i) => i.input.slice(src.length + 1))).toEqual(['a/one.png']);
  });

  it('never overwrites an input, even when the template maps an input onto another', async () => {
    const src = join(dir, 'clash');
    await mkdir(src, { recursive: true });
    await writeTestImage(join(src, 'p.png'), 12, 12);
    await copyFile(join(src, 'p.png'), join(src, 'p_tiny_x2.png')); // looks like an output, is an input
    const summary = await upscaleBatch([join(src, 'p.png'), join(src, 'p_tiny_x2.png')], { ...base });
    expect(summary.failed.map((f) => f.reason)).toEqual([expect.stringMatching(/would overwrite an input file/)]);
    expect(summary.succeeded.map((s) => s.output)).toEqual([join(src, 'p_tiny_x2_tiny_x2.png')]);
    const same = await upscaleBatch([join(src, 'p.png')], { ...base, template: '{name}.{ext}' });
    expect(same.failed[0]!.reason).toMatch(/would overwrite an input file/);
  });

  it('a forced execution provider that cannot run stops the batch with its reason', async (ctx) => {
    const src = join(dir, 'forced');
    await mkdir(src, { recursive: true });
    await writeTestImage(join(src, 'a.png'), 16, 16);
    const run = upscaleBatch([src], { ...base, ep: 'webgpu', sessions: new SessionCache(1) });
    const err = await run.then(
      (s) => s,
      (e: unknown) => e,
    );
    if (!(err instanceof Error)) return ctx.skip(); // this machine has a WebGPU adapter
    expect(err).toBeInstanceOf(ExecutionProviderError);
    expect(err.message).toMatch(/execution provider webgpu failed/);
    expect(await readdir(src)).toEqual(['a.png']);
  });

  it('an aborted batch stops and leaves no partial file', async () => {
    const src = join(dir, 'abort');
    await mkdir(src, { recursive: true });
    for (const n of ['a', 'b', 'c']) await writeTestImage(join(src, `${n}.png`), 96, 80);
    const ac = new AbortController();
    const summary = await upscaleBatch([src], {
      ...base,
      signal: ac.signal,
      onEvent: (e) => e.type === 'progress' && e.index === 1 && e.tilesDone === 2 && ac.abort(),
    });
    expect(summary.cancelled).toBe(true);
    expect(summary.succeeded).toHaveLength(1);
    expect((await readdir(src)).sort()).toEqual(['a.png', 'a_tiny_x2.png', 'b.png', 'c.png']);
    expect(existsSync(join(src, 'b_tiny_x2.png'))).toBe(false);
  });
});
