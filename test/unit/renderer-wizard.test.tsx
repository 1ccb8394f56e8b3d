// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useImages } from '../../renderer/state/images';
import { useUi } from '../../renderer/state/ui';
import { fakeClient } from '../helpers/renderer-fake-client';
import { installBrowserGaps, renderApp, teardown } from '../helpers/renderer-dom';

const slide = (name: string, value: number) => fireEvent.change(screen.getByRole('slider', { name }), { target: { value: String(value) } });

describe('wizard view', () => {
  beforeEach(installBrowserGaps);
  afterEach(teardown);

  it('shows the live EDSR parameter and FLOP counts of the sliders', async () => {
    renderApp(fakeClient());
    fireEvent.keyDown(window, { key: '4' });
    await screen.findByRole('region', { name: 'Stage 1: Prune' });
    // Counts from the engine's graph count: EDSR-baseline 1,369,859 params / 632.5 GFLOPs, EDSRmini 49,603 / 23.3.
    slide('Channels', 64);
    slide('Blocks', 16);
    expect(screen.getByTestId('plan-params').textContent).toBe('1,369,859');
    expect(screen.getByTestId('plan-flops').textContent).toBe('632 GFLOPs');
    expect(screen.getByTestId('plan-layers').textContent).toBe('36 conv');
    expect(screen.getByTestId('plan-share').textContent).toContain('over budget');
    slide('Channels', 16);
    slide('Blocks', 8);
    expect(screen.getByTestId('plan-params').textContent).toBe('49,603');
    expect(screen.getByTestId('plan-flops').textContent).toBe('23.3 GFLOPs');
    expect(screen.getByTestId('plan-share').textContent).toBe('3.62% ✓ within budget');
    // Running these stages waits for the compression engine.
    expect((screen.getByRole('button', { name: /Run pruning/ }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: /Run compression/ }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('starts a distillation, charts its events, pauses/resumes and offers the teacher comparison', async () => {
    const client = fakeClient();
    renderApp(client);
    act(() => useImages.getState().add([{ id: 'src', name: 'bird.png', width: 100, height: 80, format: 'png', hasAlpha: false, bytes: 1 }]));
    fireEvent.keyDown(window, { key: '4' });
    const stage = await screen.findByRole('region', { name: 'Stage 3: Distil' });
    await within(stage).findByRole('option', { name: 'EDSR-baseline' });
    const start = within(stage).getByRole('button', { name: 'Start distillation' }) as HTMLButtonElement;
    expect(start.disabled).toBe(true); // no training data yet
    fireEvent.change(within(stage).getByRole('textbox', { name: 'Training data folder' }), { target: { value: '/data/train291' } });
    fireEvent.change(within(stage).getByRole('spinbutton', { name: 'Steps' }), { target: { value: '300' } });
    fireEvent.click(start);
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startDistill')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startDistill')!.args[0]).toEqual({
      teacher: 'edsr-baseline-x2', student: 'edsr-mini', steps: 300, batch: 16, patch: 48, lr: 2e-4, dataDir: '/data/train291',
    });

    act(() => {
      client.emit({ type: 'train', jobId: 'job-1', step: 50, steps: 300, loss: 0.0812, lr: 2e-4, stepsPerSec: 4, etaSec: 62 });
      client.emit({ type: 'train', jobId: 'job-1', step: 100, steps: 300, loss: 0.0456, lr: 2e-4, stepsPerSec: 4, etaSec: 50, valPsnr: 33.91 });
    });
    expect(screen.getByRole('status', { name: 'Latest Loss' }).textContent).toBe('0.0456');
    expect(screen.getByRole('status', { name: 'Latest Validation PSNR' }).textContent).toBe('33.91 dB');
    expect(screen.getByTestId('train-stats').textContent).toBe('Step 100 / 300 · 4.00 steps/s · ETA 50 s');

    fireEvent.click(screen.getByRole('button', { name: 'Pause distillation' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'pauseJob')).toBe(true));
    act(() => client.emit({ type: 'job', job: { id: 'job-1', kind: 'distill', state: 'paused', title: 'Distil' } }));
    fireEvent.click(await screen.findByRole('button', { name: 'Resume distillation' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'resumeJob')).toBe(true));

    const model = { id: 'user-edsr-mini-1', label: 'EDSRmini (distilled)', family: 'edsr', scale: 2, params: 49_603, gflopsPerMegapixel: 101.1, compact: true, source: 'user' as const, psnr: { Set5: 36.1 } };
    act(() => {
      client.emit({ type: 'distill-done', jobId: 'job-1', model });
      client.emit({ type: 'job', job: { id: 'job-1', kind: 'distill', state: 'done', title: 'Distil' } });
    });
    const result = await screen.findByTestId('distill-result');
    expect(result.textContent).toContain('49,603');
    expect(result.textContent).toContain('3.6%'); // of the teacher's parameters
    expect(result.textContent).toContain('36.10 dB');
    fireEvent.click(within(result).getByRole('button', { name: 'Compare with teacher' }));
    expect(useUi.getState().view).toBe('compare');
    expect(useUi.getState().compare).toMatchObject({ sourceId: 'src', a: 'edsr-baseline-x2', b: 'user-edsr-mini-1', scale: 2 });
    // Both models are run on the open image so the comparison can show them.
    await waitFor(() => expect(client.calls.filter((c) => c.method === 'startUpscale').map((c) => (c.args[0] as { modelId: string }).modelId))
      .toEqual(['edsr-baseline-x2', 'user-edsr-mini-1']));
  });
});
