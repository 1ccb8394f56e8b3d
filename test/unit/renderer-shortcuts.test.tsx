// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClient, type FakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

const selectedTab = () => screen.getAllByRole('tab').find((t) => t.getAttribute('aria-selected') === 'true')?.textContent;

describe('keyboard shortcuts', () => {
  let client: FakeClient;
  beforeEach(() => {
    installBrowserGaps();
    client = fakeClient();
  });
  afterEach(teardown);

  it('switch views with 1-5, but not while typing in a field', async () => {
    renderApp(client);
    expect(selectedTab()).toContain('Upscale');
    fireEvent.keyDown(window, { key: '2' });
    expect(selectedTab()).toContain('Compare');
    fireEvent.keyDown(window, { key: '3' });
    expect(selectedTab()).toContain('Batch');
    fireEvent.keyDown(window, { key: '4' });
    expect(selectedTab()).toContain('Wizard');
    fireEvent.keyDown(window, { key: '5' });
    expect(selectedTab()).toContain('Settings');
    const template = await screen.findByRole('textbox', { name: 'Output naming template' });
    fireEvent.keyDown(template, { key: '1' });
    expect(selectedTab()).toContain('Settings');
    // A focused radio button or checkbox takes no text: the shortcut still applies.
    fireEvent.keyDown(screen.getByRole('checkbox', { name: 'Keep metadata' }), { key: '1' });
    expect(selectedTab()).toContain('Upscale');
  });

  it('Ctrl+O opens images (file picker in web mode) and is kept from the browser', async () => {
    renderApp(client);
    const input = screen.getByTestId('file-input') as HTMLInputElement;
    let clicked = 0;
    input.addEventListener('click', () => clicked++);
    const ev = new KeyboardEvent('keydown', { key: 'o', ctrlKey: true, cancelable: true });
    window.dispatchEvent(ev);
    expect(clicked).toBe(1);
    expect(ev.defaultPrevented).toBe(true);
  });

  it('native menu actions switch views and run commands like their shortcuts', async () => {
    renderApp(client);
    act(() => client.menu({ view: 'wizard' }));
    expect(selectedTab()).toContain('Wizard');
    act(() => client.menu({ view: 'upscale' }));
    const input = screen.getByTestId('file-input') as HTMLInputElement;
    let clicked = 0;
    input.addEventListener('click', () => clicked++);
    act(() => client.menu({ command: 'open' }));
    expect(clicked).toBe(1);
  });

  it('the theme follows the setting and the toggle', async () => {
    renderApp(client);
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('light')); // system (no dark preference)
    fireEvent.click(await screen.findByRole('button', { name: 'Switch to dark theme' }));
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('dark'));
    expect(client.calls.find((c) => c.method === 'setSettings')?.args).toEqual([{ theme: 'dark' }]);
  });
});
