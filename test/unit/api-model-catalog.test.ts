import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../engine/api/models';

const SHIPPED = resolve(import.meta.dirname, '../../models');

describe('ModelCatalog', () => {
  it('answers calls that overlap (a page and a job asking at once) with the whole list each', async () => {
    const user = await mkdtemp(join(tmpdir(), 'minisr-catalog-'));
    await mkdir(user, { recursive: true });
    const all = (await new ModelCatalog(SHIPPED, user).list()).map((m) => m.id);
    expect(all.length).toBeGreaterThan(3);
    // A second call starting while the first is part-way through its folder, at several points.
    for (let delayMs = 0; delayMs <= 12; delayMs += 2) {
      const catalog = new ModelCatalog(SHIPPED, user);
      const first = catalog.list();
      await new Promise((r) => setTimeout(r, delayMs));
      const lists = await Promise.all([first, catalog.list(), catalog.list()]);
      for (const list of lists) expect(list.map((m) => m.id)).toEqual(all);
      expect(await catalog.path(all.at(-1)!)).toBe(join(SHIPPED, `${all.at(-1)}.onnx`));
    }
  });
});
