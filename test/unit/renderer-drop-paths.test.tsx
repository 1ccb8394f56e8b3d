// @vitest-environment jsdom
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DroppedPaths } from '../../electron/channels';
import { useModels } from '../../renderer/state/models';
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
    const answer: DroppedPaths = { files: ['/photos/cat.png'], folders: ['/photos/trip'], models: [] };
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
    client = Object.assign(client, { openDropped: async () => ({ files: [], folders: ['/photos/trip'], models: [] }) });
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [new File([], 'trip')], items: [], types: ['Files'] } });
    await waitFor(() => expect(useUi.getState().view).toBe('batch'));
    expect(useUi.getState().forms.batch.inputs).toEqual(['/photos/trip']);
  });
});

/** A dropped model file is imported by path in the desktop app; a page without paths says how to import. */
describe('dropping model files', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  const imported = {
    id: 'realesr-general-x4v3',
    label: 'realesr-general-x4v3 x4',
    family: 'srvgg',
    scale: 4,
    params: 1_210_000,
    compact: true,
    source: 'user' as const,
  };

  it('desktop: imports each dropped model by path, names it in a notice, offers and selects it; a bad one is reported', async () => {
    const base = fakeClient({ imported });
    const importModel = base.importModel.bind(base);
    const client = Object.assign(base, {
      openDropped: async () => ({ files: [], folders: [], models: ['/models/broken.onnx', '/models/realesr-general-x4v3.pth'] }),
      importModel: (p: string) =>
        p.endsWith('broken.onnx') ? Promise.reject(new Error('broken.onnx: not an ONNX model')) : importModel(p),
    });
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    const pth = new File([new Uint8Array([80, 75, 3, 4])], 'realesr-general-x4v3.pth');
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [pth], items: [], types: ['Files'] } });
    expect(await screen.findByText('Imported realesr-general-x4v3: srvgg, x4, 1,210,000 parameters')).toBeTruthy();
    expect(screen.getByText('broken.onnx: not an ONNX model')).toBeTruthy();
    expect(client.calls.filter((c) => c.method === 'importModel').map((c) => c.args)).toEqual([['/models/realesr-general-x4v3.pth']]);
    expect(useModels.getState().models.map((m) => m.id)).toContain('realesr-general-x4v3');
    expect(useUi.getState().forms.upscale).toEqual({ modelId: 'realesr-general-x4v3', scale: 4 });
    expect(client.calls.some((c) => c.method === 'openImage' || c.method === 'uploadImage')).toBe(false);
  });

  it('web mode: a dropped model is not uploaded; a notice points to minisr import and the desktop app, images still open', async () => {
    const client = fakeClient({ imported });
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    const files = [
      new File([new Uint8Array([1])], 'model.json'),
      new File([new Uint8Array([137, 80, 78, 71])], 'cat.png', { type: 'image/png' }),
    ];
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files, types: ['Files'] } });
    expect(await screen.findByText(/minisr import <file>.*Import model… in the desktop app/)).toBeTruthy();
    await waitFor(() => expect(client.calls.filter((c) => c.method === 'uploadImage').map((c) => c.args)).toEqual([['cat.png']]));
    expect(client.calls.some((c) => c.method === 'importModel')).toBe(false);
  });
});
