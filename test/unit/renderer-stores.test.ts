import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineClient, EngineEvent } from '../../renderer/api/client';
import { connectEvents, EVENT_BATCH_MS } from '../../renderer/state/events';
import {
  emptyJobs,
  latestJob,
  MAX_TRAIN_POINTS,
  reduceJobs,
  resultsFor,
  trackJob,
  useJobs,
  type JobsState,
} from '../../renderer/state/jobs';

const apply = (events: EngineEvent[], s: JobsState = emptyJobs) => events.reduce(reduceJobs, s);
const output = { id: 'out-1', name: 'cat_x2.png', width: 200, height: 100, format: 'png', hasAlpha: false, bytes: 10 };

describe('jobs reducer', () => {
  it('keeps the latest progress and the job state from job events', () => {
    const s = apply([
      { type: 'job', job: { id: 'j1', kind: 'upscale', state: 'running', title: 'Upscale' } },
      { type: 'progress', jobId: 'j1', done: 1, total: 8, megapixelsPerSec: 0.5, etaSec: 12 },
      { type: 'progress', jobId: 'j1', done: 3, total: 8, megapixelsPerSec: 0.6, etaSec: 8 },
      { type: 'job', job: { id: 'j1', kind: 'upscale', state: 'done', title: 'Upscale' } },
    ]);
    expect(s.order).toEqual(['j1']);
    expect(s.jobs.j1!.progress).toEqual({ done: 3, total: 8, megapixelsPerSec: 0.6, etaSec: 8 });
    expect(s.jobs.j1!.info.state).toBe('done');
  });

  it('updates a batch file in place and keeps first-seen order', () => {
    const s = apply([
      { type: 'batch-file', jobId: 'b', file: { input: '/in/a.png', state: 'queued' } },
      { type: 'batch-file', jobId: 'b', file: { input: '/in/b.png', state: 'queued' } },
      { type: 'batch-file', jobId: 'b', file: { input: '/in/a.png', state: 'done', output: '/out/a_x2.png' } },
      { type: 'batch-file', jobId: 'b', file: { input: '/in/b.png', state: 'failed', reason: 'not an image: unknown signature' } },
      { type: 'batch-done', jobId: 'b', summary: { done: 1, failed: 1, skipped: 0 } },
    ]);
    const e = s.jobs.b!;
    expect(e.info.kind).toBe('batch');
    expect(e.files!.map((f) => [f.input, f.state])).toEqual([
      ['/in/a.png', 'done'],
      ['/in/b.png', 'failed'],
    ]);
    expect(e.files![1]!.reason).toBe('not an image: unknown signature');
    expect(e.batchSummary).toEqual({ done: 1, failed: 1, skipped: 0 });
  });

  it('accumulates training points and validation PSNR, ignoring repeated steps', () => {
    const t = (step: number, loss: number, valPsnr?: number): EngineEvent => ({
      type: 'train',
      jobId: 'd',
      step,
      steps: 100,
      loss,
      lr: 1e-4,
      stepsPerSec: 2,
      etaSec: (100 - step) / 2,
      ...(valPsnr ? { valPsnr } : {}),
    });
    const s = apply([t(10, 0.5), t(20, 0.4, 30.1), t(20, 0.4), t(30, 0.3, 31.2)]);
    const train = s.jobs.d!.train!;
    expect(s.jobs.d!.info.kind).toBe('distill');
    expect(train.points.map((p) => [p.step, p.loss])).toEqual([
      [10, 0.5],
      [20, 0.4],
      [30, 0.3],
    ]);
    expect(train.val).toEqual([
      { step: 20, psnr: 30.1 },
      { step: 30, psnr: 31.2 },
    ]);
    expect(train.etaSec).toBe(35);
  });

  it('attaches a result to the request even when the events came before the call answered', () => {
    const req = { imageId: 'src', modelId: 'edsr-mini-x2', scale: 2 };
    let s = apply([
      { type: 'job', job: { id: 'u', kind: 'upscale', state: 'done', title: 'Upscale' } },
      { type: 'upscale-done', jobId: 'u', result: { output, modelId: 'edsr-mini-x2', scale: 2, passes: 1, ep: 'cpu', millis: 120 } },
    ]);
    expect(resultsFor(s, 'src')).toEqual({});
    s = trackJob(s, { id: 'u', kind: 'upscale', state: 'running', title: 'Upscale' }, { kind: 'upscale', req });
    expect(s.jobs.u!.info.state).toBe('done'); // the older call answer does not roll the state back
    expect(Object.keys(resultsFor(s, 'src'))).toEqual(['edsr-mini-x2@x2']);
    expect(latestJob(s, 'upscale')?.upscale?.output.id).toBe('out-1');
  });

  it('keeps the produced model of a distillation', () => {
    const model = {
      id: 'student-1',
      label: 'EDSRmini (distilled)',
      family: 'edsr',
      scale: 2,
      params: 49603,
      compact: true,
      source: 'user' as const,
    };
    const s = apply([{ type: 'distill-done', jobId: 'd', model }]);
    expect(s.jobs.d!.model).toEqual(model);
  });
});

describe('training points', () => {
  it(`keep at most ${MAX_TRAIN_POINTS} points of a long run, evenly spaced, the first and the newest kept`, () => {
    const ev = (step: number): EngineEvent => ({
      type: 'train',
      jobId: 'd',
      step,
      steps: 10_000,
      loss: 1 / step,
      lr: 1e-3,
      stepsPerSec: 1,
      etaSec: 1,
    });
    let s = emptyJobs;
    for (let step = 1; step <= 10_000; step++) s = reduceJobs(s, ev(step));
    const points = s.jobs.d!.train!.points;
    expect(points.length).toBeLessThanOrEqual(MAX_TRAIN_POINTS);
    expect(points.length).toBeGreaterThan(MAX_TRAIN_POINTS / 2);
    expect(points[0]!.step).toBe(1);
    expect(points.at(-1)).toEqual({ step: 10_000, loss: 1 / 10_000, lr: 1e-3 });
    expect(points.every((p, i) => i === 0 || p.step > points[i - 1]!.step)).toBe(true);
    // Evenly spread over the run: half of them in its first half.
    expect(points.filter((p) => p.step <= 5000).length / points.length).toBeCloseTo(0.5, 1);
  });
});

describe('connectEvents', () => {
  afterEach(() => {
    vi.useRealTimers();
    useJobs.getState().reset();
  });

  it(`applies a burst of events in one store update per ${EVENT_BATCH_MS} ms, in order, and the rest when unsubscribed`, async () => {
    vi.useFakeTimers();
    let emit: (e: EngineEvent) => void = () => {};
    const client = {
      onEvent: (cb: (e: EngineEvent) => void) => ((emit = cb), () => (emit = () => {})),
      listJobs: () => new Promise<never>(() => {}),
    } as unknown as EngineClient;
    const updates = vi.fn();
    const unsubscribeStore = useJobs.subscribe(updates);
    const off = connectEvents(client);
    const train = (step: number): EngineEvent => ({
      type: 'train',
      jobId: 'd',
      step,
      steps: 500,
      loss: 1,
      lr: 1,
      stepsPerSec: 1,
      etaSec: 1,
    });
    emit({ type: 'job', job: { id: 'd', kind: 'distill', state: 'running', title: 't' } });
    for (let step = 1; step <= 300; step++) emit(train(step));
    expect(updates).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(EVENT_BATCH_MS);
    expect(updates).toHaveBeenCalledTimes(1);
    expect(useJobs.getState().jobs.d!.train!.points.map((p) => p.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    emit(train(301));
    off();
    expect(updates).toHaveBeenCalledTimes(2);
    expect(useJobs.getState().jobs.d!.train!.points.at(-1)!.step).toBe(301);
    unsubscribeStore();
  });
});
