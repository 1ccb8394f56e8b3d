// @vitest-environment jsdom
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';
import { useModels } from '../../renderer/state/models';
import { useUi } from '../../renderer/state/ui';

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

describe('settings: Import model…', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('imports the model picked in the dialog (which also lists .onnx and model.json), offers and selects it', async () => {
    const imported = {
      id: 'RealESRGAN_x4plus',
      label: 'RealESRGAN_x4plus x4',
      family: 'rrdbnet',
      scale: 4,
      params: 16_697_987,
      compact: false,
      source: 'user' as const,
    };
    const dialogs = {
      openFiles: async () => [],
      openFolder: async () => null,
      openCheckpoint: async () => null,
      openModel: async () => '/home/u/RealESRGAN_x4plus.pth',
      saveFile: async () => null,
      revealInFolder: async () => {},
    };
    const client = fakeClient({ dialogs, imported });
    renderApp(client);
    fireEvent.keyDown(window, { key: '5' });
    fireEvent.click(await screen.findByRole('button', { name: 'Import model…' }));
    expect(await screen.findByText('Imported RealESRGAN_x4plus: rrdbnet, x4, 16,697,987 parameters')).toBeTruthy();
    expect(client.calls.filter((c) => c.method === 'importModel').map((c) => c.args)).toEqual([['/home/u/RealESRGAN_x4plus.pth']]);
    expect(useModels.getState().models.map((m) => m.id)).toContain('RealESRGAN_x4plus');
    expect(useUi.getState().forms.upscale).toEqual({ modelId: 'RealESRGAN_x4plus', scale: 4 });
  });

  it('web mode (no native dialogs) points to the CLI instead', async () => {
    renderApp(fakeClient());
    fireEvent.keyDown(window, { key: '5' });
    expect(await screen.findByText(/minisr import <file>/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Import model…' })).toBeNull();
  });
});
