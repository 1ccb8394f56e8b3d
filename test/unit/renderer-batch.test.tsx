// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DialogApi, DirListing } from '../../renderer/api/client';
import { fakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

const dirs: Record<string, DirListing> = {
  '': { path: null, parent: null, entries: [{ name: 'photos', path: '/home/u/photos', kind: 'dir' }] },
  '/home/u/photos': {
    path: '/home/u/photos',
    parent: null,
    entries: [
      { name: 'trip', path: '/home/u/photos/trip', kind: 'dir' },
      { name: 'out', path: '/home/u/photos/out', kind: 'dir' },
    ],
  },
  '/home/u/photos/trip': {
    path: '/home/u/photos/trip',
    parent: '/home/u/photos',
    entries: [{ name: 'a.jpg', path: '/home/u/photos/trip/a.jpg', kind: 'image' }],
  },
  '/home/u/photos/out': { path: '/home/u/photos/out', parent: '/home/u/photos', entries: [] },
};

async function chooseFolder(button: string, ...names: string[]) {
  fireEvent.click(screen.getByRole('button', { name: button }));
  const dialog = await screen.findByRole('dialog');
  for (const n of names) fireEvent.click(await within(dialog).findByRole('button', { name: `Open folder ${n}` }));
  await waitFor(() => expect(within(dialog).getByTestId('browse-path').textContent).toContain(names[names.length - 1]!));
  fireEvent.click(within(dialog).getByRole('button', { name: 'Choose this folder' }));
  await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
}

describe('batch view', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('starts a batch from browsed folders and lists a failure with its reason (web mode)', async () => {
    const client = fakeClient({ dirs });
    renderApp(client);
    fireEvent.keyDown(window, { key: '3' });
    await screen.findByRole('button', { name: 'Start batch' });
    await screen.findByRole('option', { name: 'EDSRmini' });

    await chooseFolder('Add folder…', 'photos', 'trip');
    await chooseFolder('Choose output folder', 'photos', 'out');
    expect(screen.getByTestId('batch-output-dir').textContent).toBe('/home/u/photos/out');
    // The setup survives a trip to another view.
    fireEvent.keyDown(window, { key: '1' });
    fireEvent.keyDown(window, { key: '3' });
    expect(screen.getByTestId('batch-output-dir').textContent).toBe('/home/u/photos/out');
    expect(within(screen.getByRole('list', { name: 'Batch inputs' })).getByTitle('/home/u/photos/trip')).toBeTruthy();
    fireEvent.change(screen.getByRole('combobox', { name: 'Batch scale' }), { target: { value: '4' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start batch' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startBatch')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startBatch')!.args[0]).toMatchObject({
      inputs: ['/home/u/photos/trip'],
      outputDir: '/home/u/photos/out',
      modelId: 'edsr-mini-x2',
      scale: 4,
      recursive: true,
      skipExisting: true,
    });

    act(() => {
      client.emit({
        type: 'batch-file',
        jobId: 'job-1',
        file: { input: '/home/u/photos/trip/a.jpg', state: 'done', output: '/home/u/photos/out/a_x2.png' },
      });
      client.emit({
        type: 'batch-file',
        jobId: 'job-1',
        file: { input: '/home/u/photos/trip/bad.jpg', state: 'failed', reason: 'bad.jpg: truncated JPEG (no end-of-image marker)' },
      });
      client.emit({ type: 'batch-file', jobId: 'job-1', file: { input: '/home/u/photos/trip/c.jpg', state: 'running' } });
      client.emit({ type: 'progress', jobId: 'job-1', done: 2, total: 3, etaSec: 5 });
    });
    const failures = screen.getByRole('region', { name: 'Failures' });
    expect(within(failures).getByText(/truncated JPEG/).textContent).toContain('no end-of-image marker');
    expect(within(failures).getByText('bad.jpg')).toBeTruthy();
    expect(screen.getByTestId('batch-summary').textContent).toBe('1 done · 1 failed · 0 skipped · 1 to go');
    expect(screen.getByRole('progressbar', { name: 'Batch progress' }).getAttribute('aria-valuenow')).toBe('2');
    // Web mode has no file manager to open.
    expect(screen.queryByRole('button', { name: 'Open output folder' })).toBeNull();
  });

  /** Desktop app: folder /data/in in and out, batch started, then "Open output folder" clicked. */
  async function startAndReveal(revealInFolder: DialogApi['revealInFolder']) {
    const dialogs: DialogApi = {
      openFiles: async () => [],
      openFolder: async () => '/data/in',
      openCheckpoint: async () => null,
      openModel: async () => null,
      saveFile: async () => null,
      revealInFolder,
    };
    renderApp(fakeClient({ dialogs }));
    fireEvent.keyDown(window, { key: '3' });
    await screen.findByRole('option', { name: 'EDSRmini' });
    fireEvent.click(screen.getByRole('button', { name: 'Add folder…' }));
    await screen.findByText('/data/in');
    fireEvent.click(screen.getByRole('button', { name: 'Choose output folder' }));
    await waitFor(() => expect(screen.getByTestId('batch-output-dir').textContent).toBe('/data/in'));
    fireEvent.click(screen.getByRole('button', { name: 'Start batch' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Open output folder' }));
  }

  it('offers "open output folder" in the desktop app', async () => {
    const revealed: string[] = [];
    await startAndReveal(async (p) => void revealed.push(p));
    await waitFor(() => expect(revealed).toEqual(['/data/in']));
  });

  it('shows an error when the output folder cannot be opened', async () => {
    await startAndReveal(async () => Promise.reject(new Error('no file manager for /data/in')));
    expect((await screen.findByRole('alert')).textContent).toContain('no file manager for /data/in');
  });

  it('after a reload, shows the batch the engine is still running and keeps following it', async () => {
    const client = fakeClient({ jobs: [{ id: 'old-7', kind: 'batch', state: 'running', title: '12 images x2 with edsr-mini-x2' }] });
    renderApp(client);
    fireEvent.keyDown(window, { key: '3' });
    expect(await screen.findByRole('heading', { name: '12 images x2 with edsr-mini-x2' })).toBeTruthy();
    act(() =>
      client.emit({ type: 'batch-file', jobId: 'old-7', file: { input: '/x/a.png', state: 'failed', reason: 'unsupported image format' } }),
    );
    expect(within(screen.getByRole('region', { name: 'Failures' })).getByText(/unsupported image format/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel batch' }));
    await waitFor(() => expect(client.calls.find((c) => c.method === 'cancelJob')?.args).toEqual(['old-7']));
  });
});
