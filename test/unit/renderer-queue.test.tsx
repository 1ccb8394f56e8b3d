// @vitest-environment jsdom
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DialogApi, QueueBatchStatus, QueueFileStatus } from '../../renderer/api/client';
import { QUEUE_BATCH_KEY } from '../../renderer/state/queue-batch';
import { fakeClient, type FakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

/** The app's side of the job queue: Settings' queue URL and connection test, and a batch sent to the queue from the Batch view. */

const URL = 'redis://10.0.0.5:6379/2';

function status(files: QueueFileStatus[]): QueueBatchStatus {
  const n = (s: QueueFileStatus['state']) => files.filter((f) => f.state === s).length;
  const pending = n('waiting') + n('active');
  return {
    id: 'b0123456789abcdef',
    title: `${files.length} images x2 with edsr-mini-x2 (queue)`,
    files,
    summary: { done: n('done'), failed: n('failed'), skipped: n('skipped'), pending },
    settled: pending === 0,
  };
}

const REASON = '/data/in/bad.png: not an image the decoder can read (unsupported image format)';
const STATUSES = [
  status([
    { input: '/data/in/a.png', state: 'waiting' },
    { input: '/data/in/bad.png', state: 'waiting' },
  ]),
  status([
    { input: '/data/in/a.png', state: 'active' },
    { input: '/data/in/bad.png', state: 'failed', reason: REASON },
  ]),
  status([
    { input: '/data/in/a.png', state: 'done', output: '/data/out/a_edsr-mini-x2_x2.png', worker: 'box:41' },
    { input: '/data/in/bad.png', state: 'failed', reason: REASON },
  ]),
];

const dialogs: DialogApi = {
  openFiles: async () => [],
  openFolder: async () => '/data/in',
  openCheckpoint: async () => null,
  openModel: async () => null,
  saveFile: async () => null,
  revealInFolder: async () => {},
};

async function openBatch(client: FakeClient) {
  renderApp(client);
  fireEvent.keyDown(window, { key: '3' });
  await screen.findByRole('option', { name: 'EDSRmini' });
}

describe('settings: queue', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('saves the Redis URL when the field is left, and tests the connection', async () => {
    const client = fakeClient({ queue: { reachable: true, statuses: [] } });
    renderApp(client);
    fireEvent.keyDown(window, { key: '5' });
    const field = await screen.findByRole('textbox', { name: 'Queue URL' });
    expect(screen.getByRole('button', { name: 'Test connection' }).hasAttribute('disabled')).toBe(true);
    fireEvent.change(field, { target: { value: ` ${URL} ` } });
    expect(client.calls.some((c) => c.method === 'setSettings')).toBe(false); // not on each keystroke
    fireEvent.blur(field);
    await waitFor(() => expect(client.calls.filter((c) => c.method === 'setSettings').map((c) => c.args[0])).toEqual([{ queueUrl: URL }]));
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect((await screen.findByText(/^Reachable: /)).textContent).toBe(`Reachable: Redis 7.0 answered at ${URL}`);
    expect(client.calls.find((c) => c.method === 'testQueue')!.args).toEqual([URL]);
  });

  it('says so when the queue does not answer', async () => {
    renderApp(fakeClient({ queue: { reachable: false, statuses: [] }, settings: { queueUrl: URL } }));
    fireEvent.keyDown(window, { key: '5' });
    expect(((await screen.findByRole('textbox', { name: 'Queue URL' })) as HTMLInputElement).value).toBe(URL);
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect((await screen.findByText(/^Unreachable: /)).textContent).toContain('ECONNREFUSED');
  });
});

describe('batch view: send to queue', () => {
  beforeEach(installBrowserGaps);
  afterEach(() => {
    teardown();
    localStorage.clear();
  });

  it('without a queue URL there is only the local run', async () => {
    await openBatch(fakeClient({ dialogs }));
    expect(screen.getByRole('button', { name: 'Start batch' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Send to queue' })).toBeNull();
  });

  it('sends the batch, follows each file to its end with the failure and its reason, and finds it again after a reload', async () => {
    const client = fakeClient({ dialogs, settings: { queueUrl: URL }, queue: { reachable: true, statuses: STATUSES } });
    await openBatch(client);
    expect(screen.getByRole('button', { name: 'Run here' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Add folder…' }));
    await screen.findByText('/data/in');
    fireEvent.click(screen.getByRole('button', { name: 'Choose output folder' }));
    await waitFor(() => expect(screen.getByTestId('batch-output-dir').textContent).toBe('/data/in'));
    fireEvent.click(screen.getByRole('button', { name: 'Send to queue' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'sendBatchToQueue')).toBe(true));
    expect(client.calls.find((c) => c.method === 'sendBatchToQueue')!.args[0]).toMatchObject({
      inputs: ['/data/in'],
      outputDir: '/data/in',
      modelId: 'edsr-mini-x2',
      scale: 2,
    });
    expect(client.calls.some((c) => c.method === 'startBatch')).toBe(false);
    const rows = () =>
      within(screen.getByRole('table', { name: 'Files' }))
        .getAllByRole('row')
        .slice(1)
        .map((r) => r.getAttribute('data-state'));
    expect(rows()).toEqual(['waiting', 'waiting']);
    expect(localStorage.getItem(QUEUE_BATCH_KEY)).toBe('b0123456789abcdef');

    // Polled until settled: active, then done; the corrupt image failed with the engine's reason.
    await waitFor(() => expect(rows()).toEqual(['done', 'failed']), { timeout: 5000 });
    expect(within(screen.getByRole('region', { name: 'Failures' })).getByText(/unsupported image format/).textContent).toContain(
      'not an image the decoder can read',
    );
    expect(screen.getByTestId('batch-summary').textContent).toMatch(/^1 done · 1 failed · 0 skipped · 0 to go/);
    expect(screen.getByText(/a_edsr-mini-x2_x2\.png \(on box:41\)/)).toBeTruthy();
    const polls = client.calls.filter((c) => c.method === 'queueBatchStatus').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(client.calls.filter((c) => c.method === 'queueBatchStatus').length).toBe(polls); // settled: no more polling

    // A reload: a fresh page and client; the remembered id brings the batch back.
    teardown();
    const again = fakeClient({ dialogs, settings: { queueUrl: URL }, queue: { reachable: true, statuses: [STATUSES[2]!] } });
    await openBatch(again);
    await waitFor(() => expect(rows()).toEqual(['done', 'failed']));
    expect(again.calls.find((c) => c.method === 'queueBatchStatus')!.args).toEqual(['b0123456789abcdef']);

    // Dismissed: forgotten, here and in the page storage.
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss queue batch' }));
    expect(screen.queryByRole('table', { name: 'Files' })).toBeNull();
    expect(localStorage.getItem(QUEUE_BATCH_KEY)).toBeNull();
  });

  it('shows why a batch could not be sent', async () => {
    const client = fakeClient({ dialogs, settings: { queueUrl: URL } });
    await openBatch(client);
    fireEvent.click(screen.getByRole('button', { name: 'Add folder…' }));
    await screen.findByText('/data/in');
    fireEvent.click(screen.getByRole('button', { name: 'Choose output folder' }));
    await waitFor(() => expect(screen.getByTestId('batch-output-dir').textContent).toBe('/data/in'));
    fireEvent.click(screen.getByRole('button', { name: 'Send to queue' }));
    expect((await screen.findByRole('alert')).textContent).toContain('no queue is faked');
    expect(localStorage.getItem(QUEUE_BATCH_KEY)).toBeNull();
  });
});
