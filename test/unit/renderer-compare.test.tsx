// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImageRegionQuery } from '../../renderer/api/client';
import { useImages } from '../../renderer/state/images';
import { useJobs } from '../../renderer/state/jobs';
import { useUi } from '../../renderer/state/ui';
import { fakeClient, MODELS, type FakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

const VIEWPORT = { width: 800, height: 600 };
const source = { id: 'src', name: 'city.png', width: 2000, height: 1500, format: 'png', hasAlpha: false, bytes: 1 };
const OUT = { width: 4000, height: 3000 };

// jsdom does no layout: give the viewer a size, as a browser would.
beforeAll(() => {
  for (const [prop, v] of [
    ['clientWidth', VIEWPORT.width],
    ['clientHeight', VIEWPORT.height],
  ] as const) {
    Object.defineProperty(HTMLElement.prototype, prop, {
      configurable: true,
      get(this: HTMLElement) {
        return this.dataset.testid === 'compare-viewer' ? v : 0;
      },
    });
  }
});
afterAll(() => {
  // The originals live on Element.prototype; dropping the overrides restores them.
  delete (HTMLElement.prototype as { clientWidth?: number }).clientWidth;
  delete (HTMLElement.prototype as { clientHeight?: number }).clientHeight;
});

function addResult(client: FakeClient, jobId: string, modelId: string, millis: number) {
  const req = { imageId: 'src', modelId, scale: 2 };
  useJobs.getState().track({ id: jobId, kind: 'upscale', state: 'running', title: '' }, { kind: 'upscale', req });
  client.emit({
    type: 'upscale-done',
    jobId,
    result: {
      output: { ...source, id: `out-${modelId}`, width: OUT.width, height: OUT.height },
      modelId,
      scale: 2,
      passes: 1,
      ep: 'cpu',
      millis,
    },
  });
  client.emit({ type: 'job', job: { id: jobId, kind: 'upscale', state: 'done', title: '' } });
}

const isPreview = (q: ImageRegionQuery) => q.left === undefined && q.width === undefined && (q.maxSide ?? Infinity) <= 512;
const regions = (c: FakeClient) => c.imageQueries.filter((q) => q.width !== undefined);

describe('compare view', () => {
  let client: FakeClient;
  beforeEach(() => {
    installBrowserGaps();
    client = fakeClient();
    renderApp(client);
    act(() => {
      useImages.getState().add([source]);
      addResult(client, 'j-a', 'edsr-baseline-x2', 8200);
      addResult(client, 'j-b', 'edsr-mini-x2', 640);
      useUi.getState().setCompare({ sourceId: 'src', scale: 2, a: 'edsr-baseline-x2', b: 'edsr-mini-x2' });
    });
  });
  afterEach(teardown);

  it('requests only visible regions at display size, never a full-size bitmap', async () => {
    fireEvent.keyDown(window, { key: '2' });
    await screen.findByTestId('compare-viewer');
    await waitFor(() => expect(regions(client).length).toBeGreaterThanOrEqual(2));
    // Fitted: the whole image, but scaled to the viewer (800 px wide → 896 after rounding up).
    for (const q of regions(client)) expect(q.maxSide).toBe(896);

    for (let i = 0; i < 6; i++) fireEvent.keyDown(window, { key: '+' });
    expect(screen.getByTestId('zoom-level').textContent).toBe(`${Math.round(0.2 * 1.5 ** 6 * 100)}%`);
    const before = client.imageQueries.length;
    await waitFor(() => expect(client.imageQueries.length).toBeGreaterThan(before));
    const zoomed = client.imageQueries.slice(before);
    expect(zoomed.length).toBeGreaterThan(0);
    for (const q of zoomed) {
      if (isPreview(q)) continue;
      // At 228% an 800x600 viewer shows ~351x263 output pixels: the request covers about that, not the image.
      expect(q.width! * q.height!).toBeLessThan((OUT.width * OUT.height) / 20);
      expect(q.maxSide).toBeLessThanOrEqual(Math.max(q.width!, q.height!) * 2);
    }
    // The original pane asks for its own pixels, upscaled by the server with bicubic.
    const original = zoomed.find((q) => q.imageId === 'src' && q.width !== undefined)!;
    expect(original.resample).toEqual({ scale: 2, kernel: 'bicubic' });
    expect(original.width!).toBeLessThan(source.width / 4);
    // Pixel-level zoom draws with nearest-neighbour.
    expect(document.querySelector('.layer.pixelated')).not.toBeNull();
    // Every request of the session was bounded by the display (grid slack included), far below the 4000 px image.
    for (const q of client.imageQueries) expect(q.maxSide).toBeLessThanOrEqual(1.5 * VIEWPORT.width);
  });

  it('pans and zooms all panes together (side by side)', async () => {
    fireEvent.keyDown(window, { key: '2' });
    fireEvent.click(await screen.findByRole('radio', { name: 'Side by side' }));
    const viewer = screen.getByTestId('compare-viewer');
    fireEvent.wheel(viewer, { deltaY: -800, clientX: 133, clientY: 300 });
    const zoomed = Number(screen.getByTestId('zoom-level').textContent!.replace('%', ''));
    expect(zoomed).toBeGreaterThan(Math.round((800 / 3 / 4000) * 100) * 2);
    const regionOf = (id: string, from: number) => client.imageQueries.slice(from).find((q) => q.imageId === id && q.width)!;
    await waitFor(() => expect(regionOf('out-edsr-mini-x2', 0)).toBeDefined());
    const afterZoom = client.imageQueries.length;
    await new Promise((r) => setTimeout(r, 200));
    const zoomedRegion = [...client.imageQueries].reverse().find((q) => q.imageId === 'out-edsr-mini-x2' && q.width)!;
    fireEvent.pointerDown(viewer, { clientX: 200, clientY: 300, pointerId: 1 });
    fireEvent.pointerMove(viewer, { clientX: 0, clientY: 250, pointerId: 1 });
    fireEvent.pointerUp(viewer, { pointerId: 1 });
    const before = Math.max(afterZoom, client.imageQueries.length);
    await waitFor(() => expect(client.imageQueries.length).toBeGreaterThanOrEqual(before + 3));
    // Dragging 200 screen pixels left moves the view right by more than one fetch grid cell.
    expect(regionOf('out-edsr-mini-x2', before).left!).toBeGreaterThan(zoomedRegion.left!);
    // Each pane fetched the same output rectangle: the original in its own pixels (half), the two models at 1:1.
    const [o, a, b] = ['src', 'out-edsr-baseline-x2', 'out-edsr-mini-x2'].map((id) =>
      client.imageQueries.slice(before).find((q) => q.imageId === id && q.width)!,
    );
    expect(a).toMatchObject({ left: b!.left, top: b!.top, width: b!.width, height: b!.height });
    expect(Math.abs(o!.left! * 2 - a!.left!)).toBeLessThanOrEqual(64);
    expect(Math.abs((o!.left! + o!.width!) * 2 - (a!.left! + a!.width!))).toBeLessThanOrEqual(64);
  });

  it('starts fitted in each mode and after Fit, and keeps the user’s zoom otherwise', async () => {
    fireEvent.keyDown(window, { key: '2' });
    await screen.findByTestId('compare-viewer');
    const zoom = () => screen.getByTestId('zoom-level').textContent;
    // 4000x3000 in 800x600 fits at 20%; a third of the width (side by side) at 800/3/4000 ≈ 7%.
    expect(zoom()).toBe('20%');
    fireEvent.keyDown(window, { key: '+' });
    expect(zoom()).toBe('30%');
    fireEvent.click(screen.getByRole('radio', { name: 'Side by side' }));
    expect(zoom()).toBe('7%');
    fireEvent.click(screen.getByRole('radio', { name: 'Split' }));
    expect(zoom()).toBe('20%');
    fireEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    fireEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(zoom()).toBe('45%');
    fireEvent.click(screen.getByRole('button', { name: 'Actual pixels' }));
    expect(zoom()).toBe('100%');
    fireEvent.doubleClick(screen.getByTestId('compare-viewer'));
    expect(zoom()).toBe('20%');
    fireEvent.keyDown(window, { key: '+' });
    fireEvent.click(screen.getByRole('button', { name: 'Fit to window' }));
    expect(zoom()).toBe('20%');
  });

  it('shows each model’s timing, and side-by-side and difference modes', async () => {
    fireEvent.keyDown(window, { key: '2' });
    await screen.findByTestId('compare-viewer');
    expect(screen.getByTestId('pane-label-original').textContent).toContain('Original (bicubic x2)');
    expect(screen.getByTestId('pane-label-b').textContent).toContain('EDSRmini · 0.64 s on cpu');
    const slider = screen.getByRole('slider', { name: 'Split position' });
    fireEvent.keyDown(slider, { key: 'ArrowLeft' });
    expect(slider.getAttribute('aria-valuenow')).toBe('48');

    fireEvent.click(screen.getByRole('radio', { name: 'Side by side' }));
    expect(screen.getByTestId('pane-label-a').textContent).toContain('EDSR-baseline · 8.20 s on cpu');
    expect(screen.getAllByRole('img', { name: /EDSR|Original/ })).toHaveLength(3);

    fireEvent.click(screen.getByRole('radio', { name: 'Difference' }));
    expect(document.querySelector('.diff')?.getAttribute('style')).toContain('brightness(8)');
    expect(document.querySelector('.blend-difference')).not.toBeNull();
  });
});

describe('compare view without results yet', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('runs a chosen model on the compared image and shows it running', async () => {
    const client = fakeClient();
    renderApp(client);
    act(() => {
      useImages.getState().add([source]);
      useUi.getState().setCompare({ sourceId: 'src' });
      useUi.getState().setView('compare');
    });
    fireEvent.change(await screen.findByRole('combobox', { name: 'Compared scale' }), { target: { value: '4' } });
    expect(useUi.getState().compare.scale).toBe(4);
    expect((await screen.findAllByText(/Model B: choose a model/)).length).toBeGreaterThan(0);
    await within(screen.getByRole('combobox', { name: 'Model B' })).findByRole('option', { name: 'EDSRmini' });
    fireEvent.change(screen.getByRole('combobox', { name: 'Model B' }), { target: { value: 'edsr-mini-x2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run model B' }));
    await waitFor(() =>
      expect(client.calls.find((c) => c.method === 'startUpscale')?.args).toEqual([{ imageId: 'src', modelId: 'edsr-mini-x2', scale: 4 }]),
    );
    expect(await screen.findByText('EDSRmini · 2 × x2: running…')).toBeTruthy();
    // Ctrl+Enter runs the other chosen model still missing; Esc cancels both.
    fireEvent.change(screen.getByRole('combobox', { name: 'Model A' }), { target: { value: 'edsr-baseline-x2' } });
    fireEvent.keyDown(window, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(client.calls.filter((c) => c.method === 'startUpscale')).toHaveLength(2));
    expect(client.calls.filter((c) => c.method === 'startUpscale')[1]!.args[0]).toEqual({
      imageId: 'src',
      modelId: 'edsr-baseline-x2',
      scale: 4,
    });
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Run model A' })).toBeNull());
    fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() =>
      expect(
        client.calls
          .filter((c) => c.method === 'cancelJob')
          .map((c) => c.args[0])
          .sort(),
      ).toEqual(['job-1', 'job-2']),
    );
  });
});

describe('compare view at x4 with a native x4 model', () => {
  // A stand-in for edsr-mini-x4 (none ships yet): what the engine lists for an x4 EDSRmini.
  const X4 = { ...MODELS[1]!, id: 'edsr-mini-x4', label: 'EDSRmini x4', scale: 4, params: 52_000 };
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('puts the native x4 next to edsr-mini-x2 run twice, each labelled, and runs both at x4', async () => {
    const client = fakeClient({ models: [...MODELS, X4] });
    renderApp(client);
    act(() => {
      useImages.getState().add([source]);
      useUi.getState().setCompare({ sourceId: 'src', a: 'edsr-baseline-x2', b: 'edsr-mini-x2' });
    });
    fireEvent.keyDown(window, { key: '2' });
    const modelB = () => screen.getByRole('combobox', { name: 'Model B' });
    const options = () =>
      within(modelB())
        .getAllByRole('option')
        .map((o) => (o as HTMLOptionElement).value);
    await waitFor(() => expect(options()).toContain('edsr-mini-x2'));
    // At x2 an x4 model cannot run: it is not offered.
    expect(options()).not.toContain('edsr-mini-x4');

    const scale = screen.getByRole('combobox', { name: 'Compared scale' });
    expect(
      within(scale)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['x2', 'x4', 'x8']);
    fireEvent.change(scale, { target: { value: '4' } });
    expect(useUi.getState().compare).toMatchObject({ scale: 4, a: 'edsr-mini-x2', b: 'edsr-mini-x4', splitLeft: 'a' });
    expect(options()).toContain('edsr-mini-x4');
    expect(await screen.findByText('EDSRmini · 2 × x2: not run yet')).toBeTruthy();
    expect(screen.getByText('EDSRmini x4 · native x4: not run yet')).toBeTruthy();

    fireEvent.keyDown(window, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(client.calls.filter((c) => c.method === 'startUpscale')).toHaveLength(2));
    expect(client.calls.filter((c) => c.method === 'startUpscale').map((c) => c.args[0])).toEqual([
      { imageId: 'src', modelId: 'edsr-mini-x2', scale: 4 },
      { imageId: 'src', modelId: 'edsr-mini-x4', scale: 4 },
    ]);
    // The engine's results say how many passes each took; the labels follow them.
    act(() => {
      for (const [jobId, modelId, passes] of [
        ['job-1', 'edsr-mini-x2', 2],
        ['job-2', 'edsr-mini-x4', 1],
      ] as const) {
        const output = { ...source, id: `out-${modelId}`, width: source.width * 4, height: source.height * 4 };
        client.emit({ type: 'upscale-done', jobId, result: { output, modelId, scale: 4, passes, ep: 'cpu', millis: 900 } });
        client.emit({ type: 'job', job: { id: jobId, kind: 'upscale', state: 'done', title: '' } });
      }
    });
    await waitFor(() => expect(screen.getByTestId('pane-label-a').textContent).toBe('EDSRmini · 2 × x2 · 0.90 s on cpu'));
    expect(screen.getByTestId('pane-label-b').textContent).toBe('EDSRmini x4 · native x4 · 0.90 s on cpu');
    expect(screen.getByRole('img', { name: 'EDSRmini x4 · native x4' })).toBeTruthy();

    // Back at x2 the x4 model cannot run: its slot empties, the x2 model stays.
    fireEvent.change(scale, { target: { value: '2' } });
    expect(useUi.getState().compare).toMatchObject({ scale: 2, a: 'edsr-mini-x2', b: undefined });
  });

  it('without a native model, x4 keeps the chosen models, each labelled as two x2 passes', async () => {
    const client = fakeClient();
    renderApp(client);
    act(() => {
      useImages.getState().add([source]);
      useUi.getState().setCompare({ sourceId: 'src', a: 'edsr-baseline-x2', b: 'edsr-mini-x2' });
    });
    fireEvent.keyDown(window, { key: '2' });
    fireEvent.change(await screen.findByRole('combobox', { name: 'Compared scale' }), { target: { value: '4' } });
    expect(useUi.getState().compare).toMatchObject({ scale: 4, a: 'edsr-baseline-x2', b: 'edsr-mini-x2' });
    expect(await screen.findByText('EDSRmini · 2 × x2: not run yet')).toBeTruthy();
  });
});
