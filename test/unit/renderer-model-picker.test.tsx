// @vitest-environment jsdom
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClient, MODELS } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

/** The one-line descriptions of the shipped cards, as the engine lists them (engine/api/models.ts). */
const line = (id: string) =>
  (JSON.parse(readFileSync(join(import.meta.dirname, '../../models', `${id}.json`), 'utf8')) as { description: string }).description;
const PHOTO = { ...MODELS[1]!, id: 'edsr-mini-x2-photo', label: 'EDSR-mini-photo x2', description: line('edsr-mini-x2-photo') };
const CLEAN = { ...MODELS[1]!, description: line('edsr-mini-x2') };

describe('model picker', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('explains the clean and the photo model in one line each; the compact selects carry the line too', async () => {
    renderApp(fakeClient({ models: [MODELS[0]!, CLEAN, PHOTO] }));
    const picker = await screen.findByRole('radiogroup', { name: 'Model' });
    const card = (name: string) => within(picker).getByRole('radio', { name }).closest('label')!;
    expect(card('EDSRmini').querySelector('.model-description')?.textContent).toBe(CLEAN.description);
    expect(card('EDSR-mini-photo x2').querySelector('.model-description')?.textContent).toBe(PHOTO.description);
    expect(CLEAN.description).toMatch(/clean images/);
    expect(PHOTO.description).toMatch(/phone and web photos/);
    expect(card('EDSR-baseline').querySelector('.model-description')).toBeNull();

    fireEvent.keyDown(window, { key: '3' });
    const batch = await screen.findByRole('combobox', { name: 'Batch model' });
    const option = (v: string) =>
      within(batch)
        .getAllByRole('option')
        .find((o) => (o as HTMLOptionElement).value === v)!;
    expect(option('edsr-mini-x2-photo').getAttribute('title')).toBe(PHOTO.description);
    expect(option('edsr-mini-x2').getAttribute('title')).toBe(CLEAN.description);
  });
});
