// @vitest-environment jsdom
import { act, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

describe('engine notices', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it("shows a job's notice (the GPU was lost: going on on the CPU) as a status message", async () => {
    const client = fakeClient();
    renderApp(client);
    fireEvent.keyDown(window, { key: '3' });
    await screen.findByRole('button', { name: 'Start batch' });
    const message = 'a.png: GPU lost (the GPU process ended (killed by SIGABRT)); continuing on the CPU';
    act(() => client.emit({ type: 'notice', jobId: 'job-1', message }));
    const shown = await screen.findByText(message);
    expect(shown.closest('[role="status"]')).not.toBeNull();
  });
});
