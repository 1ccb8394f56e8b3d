// @vitest-environment jsdom
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

describe('settings view', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('lists the engine’s providers (unavailable ones disabled with the reason) and saves changes', async () => {
    const client = fakeClient();
    renderApp(client);
    fireEvent.keyDown(window, { key: '5' });
    const ep = await screen.findByRole('combobox', { name: 'Execution provider' });
    const options = within(ep).getAllByRole('option') as HTMLOptionElement[];
    expect(options.map((o) => [o.value, o.disabled])).toEqual([
      ['auto', false],
      ['cpu', false],
      ['cuda', true],
    ]);
    expect(options[2]!.textContent).toContain('libcudart not found');

    fireEvent.change(ep, { target: { value: 'cpu' } });
    fireEvent.change(screen.getByRole('spinbutton', { name: 'Tile size' }), { target: { value: '256' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Keep metadata' }));
    await waitFor(() =>
      expect(client.calls.filter((c) => c.method === 'setSettings').map((c) => c.args[0])).toEqual([
        { ep: 'cpu' },
        { tile: 256 },
        { keepMetadata: false },
      ]),
    );
    expect((screen.getByRole('checkbox', { name: 'Keep metadata' }) as HTMLInputElement).checked).toBe(false);
  });
});
