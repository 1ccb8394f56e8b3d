import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../engine/api/models';
import { cardPathFor } from '../../engine/zoo/card';
import { cardFromOnnx } from '../../engine/zoo/infer';
import { writeRandomModel } from '../helpers/random-model';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-catalog-'));
  await writeRandomModel(dir, 'edsr-mini-x2');
  const photo = await writeRandomModel(dir, 'edsr-mini-x2-photo');
  const card = cardFromOnnx(await readFile(photo));
  await writeFile(cardPathFor(photo), JSON.stringify({ ...card, description: 'phone and web photos (JPEG, noise)' }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('model catalog', () => {
  it("carries the card's one-line description and labels a variant by its name without the scale", async () => {
    const models = await new ModelCatalog(dir, join(dir, 'user')).list();
    const photo = models.find((m) => m.id === 'edsr-mini-x2-photo')!;
    expect(photo).toMatchObject({ label: 'EDSR-mini-photo x2', description: 'phone and web photos (JPEG, noise)' });
    expect(models.find((m) => m.id === 'edsr-mini-x2')!.description).toBeUndefined();
  });
});
