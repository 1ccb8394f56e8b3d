// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../renderer/api/client';
import { useImages } from '../../renderer/state/images';
import { formatInt } from '../../renderer/format';
import { IMPORT_TEACHER, useUi } from '../../renderer/state/ui';
import { edsrCost } from '../../renderer/views/wizard/edsr-cost';
import { fakeClient, MODELS } from '../helpers/renderer-fake-client';
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
    // Without a prune report the numbers are an estimate, and each stage says what it lacks.
    expect((screen.getByRole('button', { name: 'Run pruning' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('prune-needs').textContent).toBe('Needs a training images folder.');
    expect((screen.getByRole('button', { name: 'Use as student' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Fit to budget' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('compress-needs').textContent).toMatch(/^Needs a finished prune run \(stage 1\)/);
    expect(screen.getByRole('listitem', { current: 'step' }).textContent).toBe('1 Prune');
  });

  it('offers an imported RRDBNet as a stage-3 teacher, but not to stage 1 (it cannot be pruned)', async () => {
    const imported = {
      id: 'RealESRGAN_x2plus',
      label: 'RealESRGAN_x2plus x2',
      family: 'rrdbnet',
      scale: 2,
      params: 16_703_171,
      compact: false,
      source: 'user' as const,
    };
    renderApp(fakeClient({ models: [...MODELS, imported] }));
    fireEvent.keyDown(window, { key: '4' });
    const prune = await screen.findByRole('region', { name: 'Stage 1: Prune' });
    const pruneOptions = within(within(prune).getByRole('combobox', { name: 'Teacher to prune' })).getAllByRole(
      'option',
    ) as HTMLOptionElement[];
    expect(pruneOptions.map((o) => o.value)).not.toContain('RealESRGAN_x2plus');
    const distil = screen.getByRole('region', { name: 'Stage 3: Distil' });
    const teacherOptions = within(within(distil).getByRole('combobox', { name: 'Teacher model' })).getAllByRole(
      'option',
    ) as HTMLOptionElement[];
    expect(teacherOptions.map((o) => o.value)).toContain('RealESRGAN_x2plus');
  });

  it('runs stage 1, shows its report, plans stage 2 from it and hands the student to stage 3', async () => {
    const bounds = { feats: 12, blocks: 6 };
    const client = fakeClient({
      plan: (req) => {
        // A stand-in for the engine's shrink: a budget picks 8 x 4, explicit sizes are taken.
        const sizes = req.params !== undefined ? { feats: 8, blocks: 4 } : { feats: req.feats!, blocks: req.blocks! };
        const scale = req.scale ?? 2;
        const cost = edsrCost({ ...sizes, scale });
        return {
          config: { family: 'edsr', num_feat: sizes.feats, num_block: sizes.blocks, upscale: scale },
          scale,
          params: cost.params,
          teacherParams: 1_369_859,
          gflops640x360: cost.flops640x360 / 1e9,
          sizes,
          bounds,
        };
      },
    });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const prune = await screen.findByRole('region', { name: 'Stage 1: Prune' });
    await within(prune).findByRole('option', { name: 'EDSR-baseline' });
    fireEvent.change(within(prune).getByRole('combobox', { name: 'Teacher to prune' }), { target: { value: 'edsr-mini-x2' } });
    fireEvent.change(within(prune).getByRole('textbox', { name: 'Prune data folder' }), { target: { value: '/data/train291' } });
    fireEvent.change(within(prune).getByRole('spinbutton', { name: 'Prune steps' }), { target: { value: '40' } });
    fireEvent.change(within(prune).getByRole('spinbutton', { name: 'Lambda (L1 weight)' }), { target: { value: '0.005' } });
    expect(within(prune).queryByTestId('prune-needs')).toBeNull();
    fireEvent.click(within(prune).getByRole('button', { name: 'Run pruning' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startPrune')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startPrune')!.args[0]).toEqual({
      teacher: 'edsr-mini-x2',
      dataDir: '/data/train291',
      steps: 40,
      lambda: 0.005,
      batch: 8,
      patch: 32,
      lr: 0.01,
    });
    act(() => client.emit({ type: 'train', jobId: 'job-1', step: 10, steps: 40, loss: 0.0321, lr: 0.01, stepsPerSec: 5, etaSec: 6 }));
    expect(screen.getByRole('status', { name: 'Latest Prune loss (L1)' }).textContent).toBe('0.0321');
    expect(screen.getByTestId('prune-stats').textContent).toBe('Step 10 / 40 · 5.00 steps/s · ETA 6 s');
    fireEvent.click(within(prune).getByRole('button', { name: 'Pause pruning' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'pauseJob')).toBe(true));
    // Stage 2 waits for the report.
    expect((screen.getByRole('button', { name: 'Use as student' }) as HTMLButtonElement).disabled).toBe(true);

    const summary = {
      reportPath: '/cfg/runs/prune-1/importance.json',
      family: 'edsr',
      params: 1_369_859,
      zeros: 410_000,
      sparsity: 0.2993,
      weightSparsity: 0.3012,
      layers: [{ key: 'conv_first.weight', sparsity: 0.125 }],
      channels: { count: 64, alive: 12, exact: true },
      blocks: { count: 16, alive: 6 },
      teacher: { feats: 64, blocks: 16 },
      bounds,
    };
    act(() => {
      client.emit({ type: 'prune-done', jobId: 'job-1', result: summary });
      client.emit({ type: 'job', job: { id: 'job-1', kind: 'prune', state: 'done', title: 'Prune' } });
    });
    const report = await screen.findByTestId('prune-report');
    expect(within(report).getByTestId('prune-sparsity').textContent).toBe('30.1%');
    expect(within(report).getByTestId('prune-channels').textContent).toBe('12 of 64');
    expect(within(report).getByTestId('prune-bounds').textContent).toBe('N_c 12, N_b 6');
    expect(report.textContent).toContain('6 of 16');
    expect(screen.getByRole('listitem', { current: 'step' }).textContent).toBe('2 Compress');

    // The sliders (16 x 8 before) move inside the bounds, and the engine plans 12 x 6.
    const plans = () => client.calls.filter((c) => c.method === 'planCompression').map((c) => c.args[0]);
    await waitFor(() => expect(plans()).toContainEqual({ report: summary.reportPath, feats: 12, blocks: 6, scale: 2 }));
    await waitFor(() =>
      expect(screen.getByTestId('plan-params').textContent).toBe(formatInt(edsrCost({ feats: 12, blocks: 6, scale: 2 }).params)),
    );
    expect(screen.getByTestId('plan-layers').textContent).toBe('16 conv');
    slide('Blocks', 3);
    await waitFor(() => expect(plans()).toContainEqual({ report: summary.reportPath, feats: 12, blocks: 3, scale: 2 }));
    await waitFor(() => expect(screen.getByTestId('plan-layers').textContent).toBe('10 conv'));
    // Fit to budget: the engine searches the sizes for 5% of the teacher's parameters.
    fireEvent.click(screen.getByRole('button', { name: 'Fit to budget' }));
    await waitFor(() => expect(plans()).toContainEqual({ report: summary.reportPath, params: Math.floor(1_369_859 * 0.05), scale: 2 }));
    await waitFor(() =>
      expect(screen.getByTestId('plan-params').textContent).toBe(formatInt(edsrCost({ feats: 8, blocks: 4, scale: 2 }).params)),
    );
    expect(screen.getByTestId('plan-share').textContent).toMatch(/✓ within budget$/);
    // EDSR: the student's residual scale travels with the plan.
    fireEvent.change(screen.getByRole('combobox', { name: 'Residual scale' }), { target: { value: '2' } });
    await waitFor(() => expect(plans()).toContainEqual({ report: summary.reportPath, feats: 8, blocks: 4, resScale: 2, scale: 2 }));
    // Stage 3 distils at x4: stage 2 plans again at x4, the second upsampler counted; and back at x2.
    const stageScale = screen.getByRole('combobox', { name: 'Student scale' });
    expect(screen.getByTestId('plan-scale').textContent).toMatch(/^The student at x2, /);
    fireEvent.change(stageScale, { target: { value: '4' } });
    await waitFor(() => expect(plans()).toContainEqual({ report: summary.reportPath, feats: 8, blocks: 4, resScale: 2, scale: 4 }));
    await waitFor(() =>
      expect(screen.getByTestId('plan-params').textContent).toBe(formatInt(edsrCost({ feats: 8, blocks: 4, scale: 4 }).params)),
    );
    expect(screen.getByTestId('plan-layers').textContent).toBe('13 conv');
    expect(screen.getByTestId('plan-scale').textContent).toMatch(/^The student at x4, /);
    fireEvent.click(screen.getByRole('button', { name: 'Fit to budget' }));
    await waitFor(() =>
      expect(plans()).toContainEqual({ report: summary.reportPath, params: Math.floor(1_369_859 * 0.05), resScale: 2, scale: 4 }),
    );
    fireEvent.change(stageScale, { target: { value: '2' } });
    await waitFor(() =>
      expect(screen.getByTestId('plan-params').textContent).toBe(formatInt(edsrCost({ feats: 8, blocks: 4, scale: 2 }).params)),
    );

    fireEvent.click(screen.getByRole('button', { name: 'Use as student' }));
    expect(await screen.findByTestId('plan-handed')).toBeTruthy();
    expect(screen.getByRole('listitem', { current: 'step' }).textContent).toBe('3 Distil');
    const distil = screen.getByRole('region', { name: 'Stage 3: Distil' });
    // The teacher that was pruned is the one to distil from.
    expect((within(distil).getByRole('combobox', { name: 'Teacher model' }) as HTMLSelectElement).value).toBe('edsr-mini-x2');
    const student = within(distil).getByRole('combobox', { name: 'Student preset' }) as HTMLSelectElement;
    expect(student.selectedOptions[0]!.textContent).toMatch(/^Planned in stage 2: EDSR 8 ch × 4 blocks/);
    fireEvent.change(within(distil).getByRole('textbox', { name: 'Training data folder' }), { target: { value: '/data/train291' } });
    // The planned student inherits from the teacher, ranked by the report it was planned from.
    fireEvent.change(within(distil).getByRole('combobox', { name: 'Initialise student from' }), { target: { value: 'inherit' } });
    expect(within(distil).getByTestId('inherit-ranking').textContent).toBe('Channels and blocks ranked by the stage-1 report (prune-1).');
    // Planned (and budgeted) at x2, it cannot be trained at x4 until planned again there.
    const distilScale = within(distil).getByRole('combobox', { name: 'Student scale' });
    const startButton = () => within(distil).getByRole('button', { name: 'Start distillation' }) as HTMLButtonElement;
    expect(startButton().disabled).toBe(false);
    fireEvent.change(distilScale, { target: { value: '4' } });
    expect(within(distil).getByRole('note').textContent).toBe(
      'The planned student was sized at x2: in stage 2, use the plan made at x4 as the student.',
    );
    expect(startButton().disabled).toBe(true);
    fireEvent.change(distilScale, { target: { value: '2' } });
    expect(within(distil).queryByRole('note')).toBeNull();
    fireEvent.change(within(distil).getByRole('combobox', { name: 'Initialise student from' }), { target: { value: 'inherit' } });
    fireEvent.click(within(distil).getByRole('button', { name: 'Start distillation' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'startDistill')).toBe(true));
    expect(client.calls.find((c) => c.method === 'startDistill')!.args[0]).toEqual({
      teacher: 'edsr-mini-x2',
      studentConfig: { family: 'edsr', num_feat: 8, num_block: 4, upscale: 2 },
      scale: 2,
      steps: 2000,
      batch: 16,
      patch: 48,
      lr: 2e-4,
      dataDir: '/data/train291',
      init: 'inherit',
      report: summary.reportPath,
    });
  });

  it('stage 3 with a listed SwinIR teacher: random by default for an EDSR student, inheriting refused before a request', async () => {
    const swinir: ModelInfo = { ...MODELS[0]!, id: 'swinir-light-x2', label: 'SwinIR-light', family: 'swinir', preset: 'swinir-light' };
    const client = fakeClient({ models: [swinir, ...MODELS] });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const distil = await screen.findByRole('region', { name: 'Stage 3: Distil' });
    await within(distil).findByRole('option', { name: 'SwinIR-light' });
    fireEvent.change(within(distil).getByRole('combobox', { name: 'Teacher model' }), { target: { value: 'swinir-light-x2' } });
    fireEvent.change(within(distil).getByRole('textbox', { name: 'Training data folder' }), { target: { value: '/data/train291' } });
    const init = within(distil).getByRole('combobox', { name: 'Initialise student from' }) as HTMLSelectElement;
    expect(init.value).toBe('random');
    fireEvent.change(init, { target: { value: 'inherit' } });
    expect(within(distil).getByTestId('inherit-ranking').textContent).toBe('Inheritance needs an EDSR teacher.');
    expect((within(distil).getByRole('button', { name: 'Start distillation' }) as HTMLButtonElement).disabled).toBe(true);
    // An EDSR teacher brings the default back.
    fireEvent.change(within(distil).getByRole('combobox', { name: 'Teacher model' }), { target: { value: 'edsr-baseline-x2' } });
    expect(within(distil).getByTestId('inherit-ranking').textContent).toMatch(/^Channels and blocks ranked by/);
    expect((within(distil).getByRole('button', { name: 'Start distillation' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("stage 3's init choice: the teacher by default (the engine's default, no init sent); random sent explicitly; SwinIR cannot inherit", async () => {
    const client = fakeClient();
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const distil = await screen.findByRole('region', { name: 'Stage 3: Distil' });
    await within(distil).findByRole('option', { name: 'EDSR-baseline' });
    fireEvent.change(within(distil).getByRole('textbox', { name: 'Training data folder' }), { target: { value: '/data/train291' } });
    const init = within(distil).getByRole('combobox', { name: 'Initialise student from' }) as HTMLSelectElement;
    expect(init.value).toBe('inherit');
    expect(within(distil).getByTestId('inherit-ranking').textContent).toBe(
      "Channels and blocks ranked by the teacher's own weights (no stage-1 report for this teacher).",
    );
    // Queried each time: the button is a new element once a job has run.
    const start = () => within(distil).getByRole('button', { name: 'Start distillation' }) as HTMLButtonElement;
    fireEvent.click(start());
    const requests = () => client.calls.filter((c) => c.method === 'startDistill').map((c) => c.args[0] as Record<string, unknown>);
    await waitFor(() => expect(requests()).toHaveLength(1));
    expect(requests()[0]).not.toHaveProperty('init');
    expect(requests()[0]).not.toHaveProperty('report');
    act(() => client.emit({ type: 'job', job: { id: 'job-1', kind: 'distill', state: 'done', title: 'Distil' } }));

    fireEvent.change(init, { target: { value: 'random' } });
    expect(within(distil).queryByTestId('inherit-ranking')).toBeNull();
    fireEvent.click(start());
    await waitFor(() => expect(requests()).toHaveLength(2));
    expect(requests()[1]).toMatchObject({ teacher: 'edsr-baseline-x2', student: 'edsr-mini', init: 'random' });
    act(() => client.emit({ type: 'job', job: { id: 'job-2', kind: 'distill', state: 'done', title: 'Distil' } }));

    // A SwinIR student starts from random weights by default; inheriting it is refused before a request.
    fireEvent.change(within(distil).getByRole('combobox', { name: 'Student preset' }), { target: { value: 'swinir-mini' } });
    fireEvent.change(init, { target: { value: 'inherit' } });
    expect(within(distil).getByTestId('inherit-ranking').textContent).toBe('Inheritance needs an EDSR student.');
    expect(start().disabled).toBe(true);
    fireEvent.change(within(distil).getByRole('combobox', { name: 'Student preset' }), { target: { value: 'edsr-mini' } });
    await waitFor(() => expect(start().disabled).toBe(false));
    fireEvent.click(start());
    await waitFor(() => expect(requests()).toHaveLength(3));
    expect(requests()[2]).toMatchObject({ teacher: 'edsr-baseline-x2', student: 'edsr-mini', init: 'inherit' });
    expect(requests()[2]).not.toHaveProperty('report');
  });

  it("stage 3's init default follows the student: random for SwinIR, the teacher again for EDSR", async () => {
    renderApp(fakeClient());
    fireEvent.keyDown(window, { key: '4' });
    const distil = await screen.findByRole('region', { name: 'Stage 3: Distil' });
    await within(distil).findByRole('option', { name: 'EDSR-baseline' });
    const init = within(distil).getByRole('combobox', { name: 'Initialise student from' }) as HTMLSelectElement;
    const student = within(distil).getByRole('combobox', { name: 'Student preset' });
    fireEvent.change(student, { target: { value: 'swinir-mini' } });
    expect(init.value).toBe('random');
    expect(within(distil).queryByTestId('inherit-ranking')).toBeNull();
    fireEvent.change(student, { target: { value: 'edsr-mini' } });
    expect(init.value).toBe('inherit');
  });

  it("stage 3's scale: what the teacher reaches (a x2 teacher twice for x4), sent with the request; inheritance only at the teacher's scale", async () => {
    const native = (scale: number) => ({ ...MODELS[0]!, id: `edsr-baseline-x${scale}`, label: `EDSR-baseline x${scale}`, scale });
    const client = fakeClient({ models: [...MODELS, native(3), native(4)] });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const distil = await screen.findByRole('region', { name: 'Stage 3: Distil' });
    await within(distil).findByRole('option', { name: 'EDSR-baseline' });
    const scale = within(distil).getByRole('combobox', { name: 'Student scale' }) as HTMLSelectElement;
    const options = () => Array.from(scale.options).map((o) => [o.value, o.textContent]);
    const inheritOption = () => within(distil).getByRole('option', { name: 'the teacher (inherit)' }) as HTMLOptionElement;
    const init = within(distil).getByRole('combobox', { name: 'Initialise student from' }) as HTMLSelectElement;
    const teacher = within(distil).getByRole('combobox', { name: 'Teacher model' });
    expect(options()).toEqual([
      ['2', 'x2'],
      ['4', 'x4 (teacher run twice)'],
    ]);
    expect(scale.value).toBe('2');
    expect(within(distil).getByTestId('scale-hint').textContent).toBe('The student upscales x2 in one pass, as the teacher does.');
    expect(inheritOption().disabled).toBe(false);

    // Inheriting at x2, then x4: inheritance is ruled out (disabled, back to random) and the validation folder follows the scale.
    fireEvent.change(within(distil).getByRole('textbox', { name: 'Training data folder' }), { target: { value: '/data/train291' } });
    fireEvent.change(within(distil).getByRole('textbox', { name: 'Validation folder' }), { target: { value: '/data/Set5/x2' } });
    fireEvent.change(init, { target: { value: 'inherit' } });
    fireEvent.change(scale, { target: { value: '4' } });
    expect(within(distil).getByTestId('scale-hint').textContent).toBe(
      'The student upscales x4 in one pass; it learns from the x2 teacher run twice.',
    );
    expect(inheritOption().disabled).toBe(true);
    expect(init.value).toBe('random');
    expect((within(distil).getByRole('textbox', { name: 'Validation folder' }) as HTMLInputElement).value).toBe('/data/Set5/x4');
    fireEvent.click(within(distil).getByRole('button', { name: 'Start distillation' }));
    const requests = () => client.calls.filter((c) => c.method === 'startDistill').map((c) => c.args[0] as Record<string, unknown>);
    await waitFor(() => expect(requests()).toHaveLength(1));
    expect(requests()[0]).toMatchObject({ teacher: 'edsr-baseline-x2', student: 'edsr-mini', scale: 4, valDir: '/data/Set5/x4' });
    expect(requests()[0]).not.toHaveProperty('init');
    act(() => client.emit({ type: 'job', job: { id: 'job-1', kind: 'distill', state: 'done', title: 'Distil' } }));

    // A x3 teacher makes x3 only, a x4 teacher x4 only; each may be inherited from.
    fireEvent.change(teacher, { target: { value: 'edsr-baseline-x3' } });
    expect(options()).toEqual([['3', 'x3']]);
    expect(inheritOption().disabled).toBe(false);
    fireEvent.change(teacher, { target: { value: 'edsr-baseline-x4' } });
    expect(options()).toEqual([['4', 'x4']]);
    fireEvent.change(init, { target: { value: 'inherit' } });
    fireEvent.click(within(distil).getByRole('button', { name: 'Start distillation' }));
    await waitFor(() => expect(requests()).toHaveLength(2));
    expect(requests()[1]).toMatchObject({ teacher: 'edsr-baseline-x4', scale: 4, init: 'inherit' });
    // A checkpoint teacher is x2 (every architecture offered is); a foreign ONNX file may be of any scale.
    act(() => client.emit({ type: 'job', job: { id: 'job-2', kind: 'distill', state: 'done', title: 'Distil' } }));
    fireEvent.change(teacher, { target: { value: IMPORT_TEACHER } });
    const file = within(distil).getByRole('textbox', { name: 'Teacher file path' });
    fireEvent.change(file, { target: { value: '/w/teacher.pth' } });
    expect(options().map(([v]) => v)).toEqual(['2', '4']);
    fireEvent.change(file, { target: { value: '/w/teacher.onnx' } });
    expect(options()).toEqual([
      ['2', 'x2'],
      ['3', 'x3'],
      ['4', 'x4'],
    ]);
  });

  it('a teacher of x8 or x1 reaches no student scale: one line says so instead of the select, and Start stays disabled', async () => {
    const odd = (scale: number) => ({ ...MODELS[0]!, id: `odd-x${scale}`, label: `Odd x${scale}`, scale });
    const client = fakeClient({ models: [...MODELS, odd(8), odd(1)] });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const distil = await screen.findByRole('region', { name: 'Stage 3: Distil' });
    await within(distil).findByRole('option', { name: 'Odd x8' });
    fireEvent.change(within(distil).getByRole('textbox', { name: 'Training data folder' }), { target: { value: '/data/train291' } });
    const startButton = () => within(distil).getByRole('button', { name: 'Start distillation' }) as HTMLButtonElement;
    expect(startButton().disabled).toBe(false);
    const teacher = within(distil).getByRole('combobox', { name: 'Teacher model' });
    for (const scale of [8, 1]) {
      fireEvent.change(teacher, { target: { value: `odd-x${scale}` } });
      expect(within(distil).getByTestId('scale-none').textContent).toBe(
        `A x${scale} teacher makes no x2, x3 or x4 student: pick a teacher of x2, x3 or x4.`,
      );
      expect(within(distil).queryByRole('combobox', { name: 'Student scale' })).toBeNull();
      expect(startButton().disabled).toBe(true);
    }
    fireEvent.change(teacher, { target: { value: MODELS[0]!.id } });
    expect(within(distil).queryByTestId('scale-none')).toBeNull();
    expect(startButton().disabled).toBe(false);
  });

  it('prunes a checkpoint picked with the native dialog (Electron)', async () => {
    const client = fakeClient({
      dialogs: {
        openFiles: async () => [],
        openFolder: async () => '/data/train',
        openCheckpoint: async () => '/models/teacher.pth',
        openModel: async () => null,
        saveFile: async () => null,
        revealInFolder: async () => {},
      },
    });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const prune = await screen.findByRole('region', { name: 'Stage 1: Prune' });
    await within(prune).findByRole('option', { name: 'EDSR-baseline' });
    fireEvent.change(within(prune).getByRole('combobox', { name: 'Teacher to prune' }), { target: { value: IMPORT_TEACHER } });
    expect(screen.getByTestId('prune-needs').textContent).toBe(
      'Needs a teacher (a listed model, or a .pth / .safetensors file), a training images folder.',
    );
    fireEvent.click(within(prune).getByRole('button', { name: 'Choose checkpoint to prune' }));
    await waitFor(() =>
      expect((within(prune).getByRole('textbox', { name: 'Checkpoint to prune' }) as HTMLInputElement).value).toBe('/models/teacher.pth'),
    );
    fireEvent.change(within(prune).getByRole('combobox', { name: 'Architecture of the checkpoint' }), { target: { value: 'edsr-mini' } });
    fireEvent.click(within(prune).getByRole('button', { name: 'Choose prune data folder' }));
    await waitFor(() =>
      expect((within(prune).getByRole('textbox', { name: 'Prune data folder' }) as HTMLInputElement).value).toBe('/data/train'),
    );
    fireEvent.click(within(prune).getByRole('button', { name: 'Run pruning' }));
    await waitFor(() =>
      expect(client.calls.find((c) => c.method === 'startPrune')?.args[0]).toEqual({
        teacher: '/models/teacher.pth',
        teacherPreset: 'edsr-mini',
        dataDir: '/data/train',
        steps: 600,
        lambda: 1e-3,
        batch: 8,
        patch: 32,
        lr: 0.01,
      }),
    );
    // A failed run says why.
    act(() =>
      client.emit({
        type: 'job',
        job: { id: 'job-1', kind: 'prune', state: 'failed', title: 'Prune', error: 'init.weights: shape mismatch' },
      }),
    );
    expect((await within(prune).findByRole('alert')).textContent).toBe('Pruning failed: init.weights: shape mismatch');
    expect((within(prune).getByRole('button', { name: 'Run pruning' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('plans from a report file (an earlier or CLI run) until a newer prune run replaces it', async () => {
    const summary = (reportPath: string, alive: number) => ({
      reportPath,
      family: 'edsr',
      params: 49_603,
      zeros: 9000,
      sparsity: 0.18,
      weightSparsity: 0.19,
      layers: [],
      channels: { count: 16, alive, exact: true },
      blocks: { count: 8, alive: 8 },
      teacher: { feats: 16, blocks: 8 },
      bounds: { feats: alive, blocks: 8 },
    });
    const client = fakeClient({
      reports: { '/runs/cli/importance.json': summary('/runs/cli/importance.json', 10) },
      plan: (req) => {
        const sizes = { feats: req.feats!, blocks: req.blocks! };
        return {
          config: { family: 'edsr', num_feat: sizes.feats, num_block: sizes.blocks },
          scale: 2,
          params: edsrCost({ ...sizes, scale: 2 }).params,
          teacherParams: 49_603,
          gflops640x360: 1,
          sizes,
          bounds: { feats: 10, blocks: 8 },
        };
      },
    });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const stage = await screen.findByRole('region', { name: 'Stage 2: Compress' });
    const file = within(stage).getByRole('textbox', { name: 'Prune report file' });
    fireEvent.change(file, { target: { value: '/etc/importance.json' } });
    fireEvent.click(within(stage).getByRole('button', { name: 'Load report' }));
    await waitFor(() => expect(useUi.getState().notices.map((n) => n.text)).toContain('/etc/importance.json: not allowed to read'));
    fireEvent.change(file, { target: { value: '/runs/cli/importance.json' } });
    fireEvent.click(within(stage).getByRole('button', { name: 'Load report' }));
    // Loaded: the channels slider is bounded by its 10 alive channels and the engine plans from it.
    await waitFor(() =>
      expect(client.calls.map((c) => c.args[0])).toContainEqual({ report: '/runs/cli/importance.json', feats: 10, blocks: 8, scale: 2 }),
    );
    expect(screen.queryByTestId('compress-needs')).toBeNull();
    expect(screen.getByRole('slider', { name: 'Channels' }).getAttribute('max')).toBe('10');
    act(() => {
      client.emit({ type: 'job', job: { id: 'p2', kind: 'prune', state: 'done', title: 'Prune' } });
      client.emit({ type: 'prune-done', jobId: 'p2', result: summary('/cfg/runs/p2/importance.json', 12) });
    });
    await waitFor(() =>
      expect(client.calls.map((c) => c.args[0])).toContainEqual({ report: '/cfg/runs/p2/importance.json', feats: 10, blocks: 8, scale: 2 }),
    );
    expect(screen.getByRole('slider', { name: 'Channels' }).getAttribute('max')).toBe('12');
  });

  it('after a reload, finds the report of a prune run the engine already finished', async () => {
    const result = {
      reportPath: '/cfg/runs/p0/importance.json',
      family: 'edsr',
      params: 49_603,
      zeros: 9000,
      sparsity: 0.18,
      weightSparsity: 0.19,
      layers: [],
      channels: { count: 16, alive: 14, exact: true },
      blocks: { count: 8, alive: 7 },
      teacher: { feats: 16, blocks: 8 },
      bounds: { feats: 14, blocks: 7 },
    };
    const client = fakeClient({
      jobs: [{ id: 'p0', kind: 'prune', state: 'done', title: 'prune edsr-mini-x2', output: result.reportPath }],
      reports: { [result.reportPath]: result },
    });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    const report = await screen.findByTestId('prune-report');
    expect(within(report).getByTestId('prune-channels').textContent).toBe('14 of 16');
    expect(screen.queryByTestId('compress-needs')).toBeNull();
    expect(screen.getByRole('slider', { name: 'Blocks' }).getAttribute('max')).toBe('7');
  });

  it('shows the engine refusing a plan', async () => {
    const client = fakeClient({
      plan: () => {
        throw new Error('feats 12 must be a multiple of every head count (6)');
      },
    });
    renderApp(client);
    fireEvent.keyDown(window, { key: '4' });
    await screen.findByRole('region', { name: 'Stage 2: Compress' });
    act(() => {
      client.emit({ type: 'job', job: { id: 'p', kind: 'prune', state: 'done', title: 'Prune' } });
      client.emit({
        type: 'prune-done',
        jobId: 'p',
        result: {
          reportPath: '/r.json',
          family: 'swinir',
          params: 900_000,
          zeros: 1,
          sparsity: 0.1,
          weightSparsity: 0.1,
          layers: [],
          channels: { count: 60, alive: 60, exact: false },
          blocks: { count: 4, alive: 4 },
          teacher: { feats: 60, blocks: 4, layers: 6 },
          bounds: { feats: 60, blocks: 4, layers: 6 },
        },
      });
    });
    expect((await screen.findByTestId('plan-error')).textContent).toBe('feats 12 must be a multiple of every head count (6)');
    expect(screen.getByRole('slider', { name: 'Layers' })).toBeTruthy();
    expect(screen.getByTestId('plan-params').textContent).toBe('—');
    expect((screen.getByRole('button', { name: 'Use as student' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('starts a distillation, charts its events, pauses/resumes and offers the teacher comparison', async () => {
    const client = fakeClient();
    renderApp(client);
    act(() =>
      useImages.getState().add([{ id: 'src', name: 'bird.png', width: 100, height: 80, format: 'png', hasAlpha: false, bytes: 1 }]),
    );
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
      teacher: 'edsr-baseline-x2',
      student: 'edsr-mini',
      scale: 2,
      steps: 300,
      batch: 16,
      patch: 48,
      lr: 2e-4,
      dataDir: '/data/train291',
    });

    act(() => {
      client.emit({ type: 'train', jobId: 'job-1', step: 50, steps: 300, loss: 0.0812, lr: 2e-4, stepsPerSec: 4, etaSec: 62 });
      client.emit({
        type: 'train',
        jobId: 'job-1',
        step: 100,
        steps: 300,
        loss: 0.0456,
        lr: 2e-4,
        stepsPerSec: 4,
        etaSec: 50,
        valPsnr: 33.91,
      });
    });
    expect(screen.getByRole('status', { name: 'Latest Loss' }).textContent).toBe('0.0456');
    expect(screen.getByRole('status', { name: 'Latest Validation PSNR' }).textContent).toBe('33.91 dB');
    expect(screen.getByTestId('train-stats').textContent).toBe('Step 100 / 300 · 4.00 steps/s · ETA 50 s');

    fireEvent.click(screen.getByRole('button', { name: 'Pause distillation' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'pauseJob')).toBe(true));
    act(() => client.emit({ type: 'job', job: { id: 'job-1', kind: 'distill', state: 'paused', title: 'Distil' } }));
    fireEvent.click(await screen.findByRole('button', { name: 'Resume distillation' }));
    await waitFor(() => expect(client.calls.some((c) => c.method === 'resumeJob')).toBe(true));

    const model = {
      id: 'user-edsr-mini-1',
      label: 'EDSRmini (distilled)',
      family: 'edsr',
      scale: 2,
      params: 49_603,
      gflopsPerMegapixel: 101.1,
      compact: true,
      source: 'user' as const,
      psnr: { Set5: 36.1 },
    };
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
    await waitFor(() =>
      expect(client.calls.filter((c) => c.method === 'startUpscale').map((c) => (c.args[0] as { modelId: string }).modelId)).toEqual([
        'edsr-baseline-x2',
        'user-edsr-mini-1',
      ]),
    );
  });
});
