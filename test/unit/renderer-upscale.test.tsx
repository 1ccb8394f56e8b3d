// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClient, type FakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

describe('upscale view', () => {
  let client: FakeClient;
  beforeEach(() => {
    installBrowserGaps();
    client = fakeClient();
  });
  afterEach(teardown);

  it('runs a job through the client, shows its progress, then the result', async () => {
    renderApp(client);
    // Models load with their facts; the compact one is preselected.
    const mini = await screen.findByRole('radio', { name: 'EDSRmini' });
    expect((mini as HTMLInputElement).checked).toBe(true);
    expect(screen.getByText('49.6 k params')).toBeTruthy();
    expect(screen.getByText('1.20 MP/s')).toBeTruthy();

    const file = new File([new Uint8Array([137, 80, 78, 71])], 'cat.png', { type: 'image/png' });
    fireEvent.change(screen.getByTestId('file-input'), { target: { files: [file] } });
    await screen.findByText('cat.png');
    expect(client.calls.find((c) => c.method === 'uploadImage')?.args).toEqual(['cat.png']);

    fireEvent.click(screen.getByRole('radio', { name: 'x4 (2× x2 passes)' }));
    fireEvent.click(screen.getByRole('button', { name: 'Run upscale' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startUpscale')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startUpscale')!.args[0]).toEqual({ imageId: 'img-1', modelId: 'edsr-mini-x2', scale: 4 });
    await screen.findByRole('button', { name: 'Cancel upscale' });

    act(() => client.emit({ type: 'progress', jobId: 'job-1', done: 3, total: 8, megapixelsPerSec: 0.75, etaSec: 42 }));
    const bar = screen.getByRole('progressbar', { name: 'Upscale progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('3');
    expect(screen.getByText('3 / 8 tiles')).toBeTruthy();
    expect(screen.getByText('0.75 MP/s')).toBeTruthy();
    expect(screen.getByText('ETA 42 s')).toBeTruthy();

    const output = { id: 'out-9', name: 'cat_x4.png', width: 2560, height: 1920, format: 'png', hasAlpha: false, bytes: 99 };
    act(() => {
      client.emit({
        type: 'upscale-done',
        jobId: 'job-1',
        result: { output, modelId: 'edsr-mini-x2', scale: 4, passes: 2, ep: 'cpu', millis: 1530 },
      });
      client.emit({ type: 'job', job: { id: 'job-1', kind: 'upscale', state: 'done', title: 'Upscale' } });
    });
    const result = await screen.findByTestId('upscale-result');
    expect(result.textContent).toContain('2560×1920');
    expect(result.textContent).toContain('1.53 s on cpu');
    expect(screen.queryByRole('progressbar', { name: 'Upscale progress' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Cancel upscale' })).toBeNull();
  });

  it('cancels the running job with Esc', async () => {
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    fireEvent.change(screen.getByTestId('file-input'), { target: { files: [new File(['x'], 'a.png', { type: 'image/png' })] } });
    await screen.findByText('a.png');
    fireEvent.keyDown(window, { key: 'Enter', ctrlKey: true });
    await screen.findByRole('button', { name: 'Cancel upscale' });
    fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(client.calls.find((c) => c.method === 'cancelJob')?.args).toEqual(['job-1']));
  });

  it('shows a failed job with the engine’s reason', async () => {
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    fireEvent.change(screen.getByTestId('file-input'), { target: { files: [new File(['x'], 'a.png', { type: 'image/png' })] } });
    await screen.findByText('a.png');
    fireEvent.click(screen.getByRole('button', { name: 'Run upscale' }));
    await screen.findByRole('button', { name: 'Cancel upscale' });
    act(() =>
      client.emit({
        type: 'job',
        job: { id: 'job-1', kind: 'upscale', state: 'failed', title: 'Upscale', error: 'out of memory on cuda' },
      }),
    );
    expect((await screen.findByRole('alert')).textContent).toContain('out of memory on cuda');
  });
});

describe('upscale view in the desktop app', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('opens through the native dialog and saves the result under the naming template', async () => {
    const picked: string[] = [];
    const client = fakeClient({
      images: { '/photos/dog.jpg': { id: 'dog', name: 'dog.jpg', width: 1000, height: 600, format: 'jpeg', hasAlpha: false, bytes: 5 } },
      dialogs: {
        openFiles: async () => ['/photos/dog.jpg'],
        openFolder: async () => null,
        openCheckpoint: async () => null,
        openModel: async () => null,
        saveFile: async (name) => {
          picked.push(name);
          return `/photos/out/${name}`;
        },
        revealInFolder: async () => {},
      },
    });
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    fireEvent.keyDown(window, { key: 'o', ctrlKey: true });
    await screen.findByText('dog.jpg');
    expect(client.calls.find((c) => c.method === 'openImage')?.args).toEqual(['/photos/dog.jpg']);
    // 0.6 MP at the measured 1.2 MP/s.
    expect(screen.getByTestId('upscale-estimate').textContent).toBe('Output 2000×1200 · about 1 s on CPU at the measured 1.20 MP/s');
    fireEvent.click(screen.getByRole('radio', { name: 'x4 (2× x2 passes)' }));
    // Two passes: 0.6 + 2.4 MP.
    expect(screen.getByTestId('upscale-estimate').textContent).toContain('about 3 s');

    fireEvent.click(screen.getByRole('button', { name: 'Run upscale' }));
    await screen.findByRole('button', { name: 'Cancel upscale' });
    const output = { id: 'out-dog', name: 'dog_x4.png', width: 4000, height: 2400, format: 'png', hasAlpha: false, bytes: 1 };
    act(() => {
      client.emit({
        type: 'upscale-done',
        jobId: 'job-1',
        result: { output, modelId: 'edsr-mini-x2', scale: 4, passes: 2, ep: 'cpu', millis: 2900 },
      });
      client.emit({ type: 'job', job: { id: 'job-1', kind: 'upscale', state: 'done', title: '' } });
    });
    await screen.findByTestId('upscale-result');
    fireEvent.keyDown(window, { key: 's', ctrlKey: true });
    await waitFor(() =>
      expect(client.calls.find((c) => c.method === 'saveImage')?.args).toEqual(['out-dog', '/photos/out/dog_edsr-mini-x2_x4.png']),
    );
    expect(picked).toEqual(['dog_edsr-mini-x2_x4.png']);
    expect(await screen.findByText('Saved /photos/out/dog_edsr-mini-x2_x4.png')).toBeTruthy();
  });
});

describe('getting images in', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('uploads dropped image files and skips other files', async () => {
    const client = fakeClient();
    renderApp(client);
    const files = [
      new File(['a'], 'one.png', { type: 'image/png' }),
      new File(['b'], 'notes.txt', { type: 'text/plain' }),
      new File(['c'], 'two.JPG', { type: '' }),
    ];
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files } });
    await screen.findByText('one.png'); // the first becomes the current image
    expect(client.calls.filter((c) => c.method === 'uploadImage').map((c) => c.args[0])).toEqual(['one.png', 'two.JPG']);
    const opened = screen.getByRole('listbox', { name: 'Opened images' });
    expect(
      within(opened)
        .getAllByRole('option')
        .map((o) => o.getAttribute('title')),
    ).toEqual(['one.png', 'two.JPG']);
  });

  it('sends a dropped folder to the batch view, which asks for it by picker', async () => {
    const client = fakeClient();
    renderApp(client);
    const folder = { kind: 'file', getAsFile: () => null, webkitGetAsEntry: () => ({ isDirectory: true, name: 'holiday' }) };
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { items: [folder], files: [] } });
    expect((await screen.findByText('holiday')).closest('[role=status]')?.textContent).toContain('choose it with “Add folder”');
    expect(screen.getAllByRole('tab').find((t) => t.getAttribute('aria-selected') === 'true')?.textContent).toContain('Batch');
  });

  it('uploads an image pasted from the clipboard', async () => {
    const client = fakeClient();
    renderApp(client);
    fireEvent.paste(window, { clipboardData: { files: [new File(['p'], 'image.png', { type: 'image/png' })] } });
    await screen.findByText('image.png');
    expect(client.calls.filter((c) => c.method === 'uploadImage').map((c) => c.args[0])).toEqual(['image.png']);
  });
});
