import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../engine/api/models';
import { MODELS_DIR } from '../../engine/upscale/model';
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

  it('the shipped clean and photo models each explain what they are for in one line', async () => {
    const models = await new ModelCatalog(MODELS_DIR, join(dir, 'none')).list();
    const line = (id: string) => models.find((m) => m.id === id)?.description ?? '';
    expect(line('edsr-mini-x2')).toMatch(/^for clean images \(scans, renders/);
    expect(line('edsr-mini-x2')).toMatch(/for JPEG photos use edsr-mini-x2-photo$/);
    expect(line('edsr-mini-x2-photo')).toMatch(/^for phone and web photos \(JPEG/);
    for (const id of ['edsr-mini-x2', 'edsr-mini-x2-photo']) expect(line(id)).not.toMatch(/\n/);
  });
});
