// @vitest-environment jsdom
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { History, ImageRef } from '../../renderer/api/client';
import { fakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

const AT = '2026-12-01T10:00:00.000Z';
const history: History = {
  images: [
    { path: '/home/u/a.png', name: 'a.png', at: AT, action: 'upscaled', modelId: 'edsr-mini-x2', scale: 2 },
    { path: '/home/u/gone.png', name: 'gone.png', at: AT, action: 'saved', missing: true },
  ],
  batches: [
    {
      id: 'job-9',
      inputs: ['/home/u/trip'],
      outputDir: '/home/u/out',
      modelId: 'edsr-baseline-x2',
      scale: 4,
      at: AT,
      state: 'finished',
      files: 3,
      done: 2,
      failed: 1,
      skipped: 0,
    },
  ],
};
const A: ImageRef = { id: 'img-a', name: 'a.png', width: 64, height: 48, format: 'png', hasAlpha: false, bytes: 100 };

describe('recent images and batches', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('reopens a recent image from the empty Upscale view; a missing one cannot be opened', async () => {
    const client = fakeClient({ history, images: { '/home/u/a.png': A } });
    renderApp(client);
    const recent = await screen.findByRole('region', { name: 'Recent images' });
    expect((within(recent).getByRole('button', { name: 'Open gone.png' }) as HTMLButtonElement).disabled).toBe(true);
    expect(within(recent).getByRole('button', { name: 'Open gone.png' }).textContent).toContain('missing');
    fireEvent.click(within(recent).getByRole('button', { name: 'Open a.png' }));
    await screen.findByAltText('Source: a.png');
    expect(client.calls.filter((c) => c.method === 'openImage')).toEqual([{ method: 'openImage', args: ['/home/u/a.png'] }]);
  });

  it('refills the batch form from a recent batch, with its counts shown', async () => {
    const client = fakeClient({ history });
    renderApp(client);
    fireEvent.keyDown(window, { key: '3' });
    const recent = await screen.findByRole('region', { name: 'Recent batches' });
    const entry = within(recent).getByRole('button', { name: 'Use batch trip' });
    expect(entry.textContent).toContain('2 done · 1 failed · 0 skipped');
    fireEvent.click(entry);
    expect(screen.getByTestId('batch-output-dir').textContent).toBe('/home/u/out');
    expect(within(screen.getByRole('list', { name: 'Batch inputs' })).getByText('/home/u/trip')).toBeTruthy();
    expect((screen.getByRole('combobox', { name: 'Batch scale' }) as HTMLSelectElement).value).toBe('4');
    fireEvent.click(screen.getByRole('button', { name: 'Start batch' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startBatch')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startBatch')!.args[0]).toMatchObject({
      inputs: ['/home/u/trip'],
      outputDir: '/home/u/out',
      modelId: 'edsr-baseline-x2',
      scale: 4,
    });
  });

  it('clears the history from Settings; the Recent list is gone afterwards', async () => {
    const client = fakeClient({ history });
    renderApp(client);
    await screen.findByRole('region', { name: 'Recent images' });
    fireEvent.keyDown(window, { key: '5' });
    fireEvent.click(await screen.findByRole('button', { name: 'Clear history' }));
    await screen.findByText('History cleared.');
    expect(client.calls.filter((c) => c.method === 'clearHistory')).toHaveLength(1);
    fireEvent.keyDown(window, { key: '1' });
    await screen.findByRole('button', { name: 'Open images' });
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Recent images' })).toBeNull());
  });
});
