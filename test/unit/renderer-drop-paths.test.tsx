// @vitest-environment jsdom
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DroppedPaths } from '../../electron/channels';
import { useUi } from '../../renderer/state/ui';
import { fakeClient, type FakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

/** The desktop app opens drops by path: the main process answers which are images and which folders. */
describe('drops in the desktop app', () => {
  let client: FakeClient;
  let dropped: File[][];
  beforeEach(() => {
    installBrowserGaps();
    dropped = [];
    const base = fakeClient();
    const answer: DroppedPaths = { files: ['/photos/cat.png'], folders: ['/photos/trip'] };
    client = Object.assign(base, { openDropped: async (files: readonly File[]) => (dropped.push([...files]), answer) });
  });
  afterEach(teardown);

  it('opens dropped files by path without uploading them; a dropped folder goes into the batch', async () => {
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    const cat = new File([new Uint8Array([137, 80, 78, 71])], 'cat.png', { type: 'image/png' });
    const trip = new File([], 'trip');
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [cat, trip], items: [], types: ['Files'] } });
    await waitFor(() => expect(client.calls.some((c) => c.method === 'openImage')).toBe(true));
    expect(dropped).toEqual([[cat, trip]]);
    expect(client.calls.find((c) => c.method === 'openImage')?.args).toEqual(['/photos/cat.png']);
    expect(client.calls.some((c) => c.method === 'uploadImage')).toBe(false);
    expect(useUi.getState().forms.batch.inputs).toEqual(['/photos/trip']);
  });

  it('a folder alone switches to the Batch view', async () => {
    client = Object.assign(client, { openDropped: async () => ({ files: [], folders: ['/photos/trip'] }) });
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [new File([], 'trip')], items: [], types: ['Files'] } });
    await waitFor(() => expect(useUi.getState().view).toBe('batch'));
    expect(useUi.getState().forms.batch.inputs).toEqual(['/photos/trip']);
  });
});
