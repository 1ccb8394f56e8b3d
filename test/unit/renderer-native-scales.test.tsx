// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useUi } from '../../renderer/state/ui';
import { fakeClient, MODELS } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

/**
 * Native scales in the Upscale and Batch views: the scale menus offer what the listed models
 * reach (x3 only with a x3 model), picking x3 or x4 preselects the native model, and the model
 * lists offer only models that reach the chosen scale, the x2 ones at x4 labelled as two passes.
 * Stand-ins for edsr-mini-x3/-x4: what the engine lists for an EDSRmini of that scale.
 */
const X3 = { ...MODELS[1]!, id: 'edsr-mini-x3', label: 'EDSRmini x3', scale: 3, params: 50_000 };
const X4 = { ...MODELS[1]!, id: 'edsr-mini-x4', label: 'EDSRmini x4', scale: 4, params: 52_000 };

const radios = (group: string) =>
  within(screen.getByRole('radiogroup', { name: group }))
    .getAllByRole('radio')
    .map((r) => [(r as HTMLInputElement).closest('label')!.textContent, (r as HTMLInputElement).checked]);

describe('upscale view with native x3 and x4 models', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('offers x3 only with a x3 model, preselects the native model per scale, and offers only models that reach it', async () => {
    const client = fakeClient({ models: [...MODELS, X3, X4] });
    renderApp(client);
    await screen.findByRole('radio', { name: 'EDSRmini' });
    // x2: the x2 models only; each scale labelled by the model that would run it.
    expect(radios('Scale')).toEqual([
      ['x2', true],
      ['x3', false],
      ['x4', false],
      ['x8 (3× x2 passes)', false],
    ]);
    expect(radios('Model').map(([t]) => t)).toEqual([expect.stringMatching(/^EDSR-baseline/), expect.stringMatching(/^EDSRmini(?! x)/)]);

    fireEvent.click(screen.getByRole('radio', { name: 'x3' }));
    expect(radios('Model')).toEqual([[expect.stringMatching(/^EDSRmini x3/), true]]);

    fireEvent.click(screen.getByRole('radio', { name: 'x4' }));
    expect((screen.getByRole('radio', { name: 'EDSRmini x4' }) as HTMLInputElement).checked).toBe(true);
    // The x2 models stay on offer at x4 as the labelled two-pass fallback; the x3 model does not.
    expect(radios('Model').map(([t]) => t)).toEqual([
      expect.stringMatching(/^EDSR-baseline.*2 × x2/),
      expect.stringMatching(/^EDSRmini(?! x).*2 × x2/),
      expect.stringMatching(/^EDSRmini x4.*native x4/),
    ]);

    const file = new File([new Uint8Array([137, 80, 78, 71])], 'cat.png', { type: 'image/png' });
    fireEvent.change(screen.getByTestId('file-input'), { target: { files: [file] } });
    await screen.findByText('cat.png');
    fireEvent.click(screen.getByRole('button', { name: 'Run upscale' }));
    await waitFor(() => expect(client.calls.filter((c) => c.method === 'startUpscale')).toHaveLength(1));
    expect(client.calls.find((c) => c.method === 'startUpscale')!.args[0]).toEqual({ imageId: 'img-1', modelId: 'edsr-mini-x4', scale: 4 });

    // Choosing the x2 model at x4 keeps x4, now labelled as two passes; back at x2 it stays chosen.
    fireEvent.click(screen.getByRole('radio', { name: 'EDSRmini' }));
    expect(screen.getByRole('radio', { name: 'x4 (2× x2 passes)' })).toHaveProperty('checked', true);
    fireEvent.click(screen.getByRole('radio', { name: 'x2' }));
    expect((screen.getByRole('radio', { name: 'EDSRmini' }) as HTMLInputElement).checked).toBe(true);
    // From the native x4 straight to x2: the x4 model cannot make x2, so its x2 sibling is chosen.
    fireEvent.click(screen.getByRole('radio', { name: 'x4' }));
    expect((screen.getByRole('radio', { name: 'EDSRmini x4' }) as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByRole('radio', { name: 'x2' }));
    expect((screen.getByRole('radio', { name: 'EDSRmini' }) as HTMLInputElement).checked).toBe(true);
  });

  it('without a x3 model offers no x3, and x4 is two passes of the x2 model', async () => {
    renderApp(fakeClient());
    await screen.findByRole('radio', { name: 'EDSRmini' });
    expect(radios('Scale').map(([t]) => t)).toEqual(['x2', 'x4 (2× x2 passes)', 'x8 (3× x2 passes)']);
  });
});

describe('batch view with native x3 and x4 models', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('offers x3 with the x3 model, preselects it, and starts the batch at x3 with it', async () => {
    const client = fakeClient({ models: [...MODELS, X3, X4] });
    renderApp(client);
    fireEvent.keyDown(window, { key: '3' });
    await screen.findByRole('option', { name: 'EDSRmini' });
    const scale = screen.getByRole('combobox', { name: 'Batch scale' });
    const model = () => screen.getByRole('combobox', { name: 'Batch model' }) as HTMLSelectElement;
    const modelOptions = () =>
      within(model())
        .getAllByRole('option')
        .map((o) => o.textContent);
    expect(
      within(scale)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['x2', 'x3', 'x4', 'x8 (3× x2 passes)']);
    expect(modelOptions()).toEqual(['EDSR-baseline', 'EDSRmini']);

    fireEvent.change(scale, { target: { value: '4' } });
    expect(model().value).toBe('edsr-mini-x4');
    expect(modelOptions()).toEqual(['EDSR-baseline (2 × x2)', 'EDSRmini (2 × x2)', 'EDSRmini x4 (native x4)']);

    fireEvent.change(scale, { target: { value: '3' } });
    expect(model().value).toBe('edsr-mini-x3');
    expect(modelOptions()).toEqual(['EDSRmini x3 (native x3)']);
    act(() => useUi.getState().setForm('batch', { inputs: ['/home/u/photos'], outputDir: '/home/u/out' }));
    fireEvent.click(screen.getByRole('button', { name: 'Start batch' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startBatch')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startBatch')!.args[0]).toMatchObject({ modelId: 'edsr-mini-x3', scale: 3 });
  });
});
