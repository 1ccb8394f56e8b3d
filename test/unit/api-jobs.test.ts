import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { JobManager } from '../../engine/api/jobs';
import { forkLink } from '../../engine/runtime/gpu-process';
import type { EngineEvent, JobState } from '../../engine/api/types';

const WORKER = new URL('../fixtures/api/steps-worker.mjs', import.meta.url);
const ABORTING_PROCESS = new URL('../fixtures/api/abort-process.mjs', import.meta.url).pathname;
const STEPS_PROCESS = new URL('../fixtures/api/steps-process.mjs', import.meta.url).pathname;
const CLOSE_MID_RUN = new URL('../fixtures/api/close-mid-run.mjs', import.meta.url).pathname;

function collect(m: JobManager) {
  const events: EngineEvent[] = [];
  m.on('event', (e) => events.push(e));
  const states = (id: string) => events.flatMap((e) => (e.type === 'job' && e.job.id === id ? [e.job.state] : []));
  const progress = (id: string) => events.filter((e) => e.type === 'progress' && e.jobId === id).length;
  const until = (id: string, state: JobState) =>
    new Promise<void>((ok) => {
      if (states(id).includes(state)) return ok();
      const f = (e: EngineEvent) => {
        if (e.type === 'job' && e.job.id === id && e.job.state === state) {
          m.off('event', f);
          ok();
        }
      };
      m.on('event', f);
    });
  const untilProgress = (id: string, n: number) =>
    new Promise<void>((ok) => {
      const check = () => progress(id) >= n && (m.off('event', check), ok());
      m.on('event', check);
      check();
    });
  return { events, states, progress, until, untilProgress };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JobManager (worker threads)', () => {
  let m: JobManager;
  afterEach(async () => m?.close());

  it('runs a job to the end: queued, running, progress events tagged with the job id, done', async () => {
    m = new JobManager(WORKER);
    const c = collect(m);
    const job = m.start('upscale', 't', { steps: 3, ms: 5 }, async (r, jobId) => ({
      type: 'batch-done',
      jobId,
      summary: { done: (r as { steps: number }).steps, failed: 0, skipped: 0 },
    }));
    expect(job).toMatchObject({ id: expect.stringMatching(/^upscale-/), kind: 'upscale', title: 't' });
    await c.until(job.id, 'done');
    expect(c.states(job.id)).toEqual(['queued', 'running', 'done']);
    expect(c.progress(job.id)).toBe(3);
    expect(c.events.find((e) => e.type === 'batch-done')).toMatchObject({ jobId: job.id, summary: { done: 3 } });
  });

  it('pause stops progress, resume continues, cancel ends it as cancelled', async () => {
    m = new JobManager(WORKER);
    const c = collect(m);
    const job = m.start('distill', 't', { steps: 1000, ms: 10 }, async () => undefined);
    await c.untilProgress(job.id, 2);
    expect(m.pause(job.id).state).toBe('paused');
    await sleep(100); // a step in flight may still report
    const atPause = c.progress(job.id);
    await sleep(300);
    expect(c.progress(job.id)).toBe(atPause);
    expect(m.resume(job.id).state).toBe('running');
    await c.untilProgress(job.id, atPause + 3);
    m.cancel(job.id);
    await c.until(job.id, 'cancelled');
    expect(c.states(job.id)).toEqual(['queued', 'running', 'paused', 'running', 'cancelled']);
    expect(m.get(job.id).state).toBe('cancelled');
  });

  it('cancels a paused job (the sleeping worker wakes up and stops)', async () => {
    m = new JobManager(WORKER);
    const c = collect(m);
    const job = m.start('upscale', 't', { steps: 1000, ms: 10 }, async () => undefined);
    await c.untilProgress(job.id, 1);
    m.pause(job.id);
    m.cancel(job.id);
    await c.until(job.id, 'cancelled');
  });

  it('a failing task ends failed with its reason; the next queued job then runs', async () => {
    m = new JobManager(WORKER);
    const c = collect(m);
    const bad = m.start('batch', 'bad', { steps: 5, ms: 1, failAt: 2 }, async () => undefined);
    const next = m.start('batch', 'next', { steps: 1, ms: 1 }, async () => undefined);
    expect(m.get(next.id).state).toBe('queued'); // one job at a time
    await c.until(next.id, 'done');
    expect(m.get(bad.id)).toMatchObject({ state: 'failed', error: 'step 2 failed on purpose' });
  });

  it('cancelling a queued job removes it without running; refuses bad transitions and unknown ids', async () => {
    m = new JobManager(WORKER);
    const c = collect(m);
    const first = m.start('upscale', 'a', { steps: 20, ms: 10 }, async () => undefined);
    const queued = m.start('upscale', 'b', { steps: 1, ms: 1 }, async () => undefined);
    expect(m.cancel(queued.id).state).toBe('cancelled');
    expect(() => m.resume(first.id)).toThrow(/only a paused job can be resumed/);
    expect(() => m.pause('nope')).toThrow(/no job with id "nope"/);
    await c.until(first.id, 'done');
    expect(c.states(queued.id)).toEqual(['queued', 'cancelled']);
    expect(() => m.pause(first.id)).toThrow(/is done/);
  });

  it('close cancels queued jobs and resolves once the running worker has stopped', async () => {
    m = new JobManager(WORKER);
    const c = collect(m);
    const running = m.start('distill', 'a', { steps: 1000, ms: 10 }, async () => undefined);
    const queued = m.start('upscale', 'b', { steps: 1, ms: 1 }, async () => undefined);
    await c.untilProgress(running.id, 1);
    await m.close();
    expect(m.get(queued.id).state).toBe('cancelled');
    await c.until(running.id, 'cancelled');
    const atClose = c.progress(running.id);
    await sleep(100);
    expect(c.progress(running.id)).toBe(atClose);
    expect(c.states(queued.id)).toEqual(['queued', 'cancelled']);
  });

  it('close during an onnxruntime call waits for the call instead of ending the thread inside it (which aborts the process)', async () => {
    // In a process of its own: before the fix this aborted with "terminate called after throwing an instance of 'Napi::Error'".
    const r = spawnSync(process.execPath, [CLOSE_MID_RUN], { encoding: 'utf8', timeout: 100_000 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.stdout.trim()).toBe('job cancelled');
  });
});

describe('JobManager: training on a GPU provider runs in a process of its own', () => {
  let m: JobManager;
  afterEach(async () => m?.close());
  const gpuDistill = (config: Record<string, unknown>) => ({ kind: 'distill', outDir: '/nonexistent', config: { steps: 10, ...config } });

  it('a native abort there fails the job with how it ended; this process and the next job carry on', async () => {
    m = new JobManager(WORKER, { jobProcess: () => forkLink(ABORTING_PROCESS) });
    const c = collect(m);
    const gpu = m.start('distill', 'on webgpu', gpuDistill({ ep: 'webgpu' }), async () => undefined);
    const next = m.start('upscale', 'next', { steps: 2, ms: 1 }, async () => undefined);
    await c.until(gpu.id, 'failed');
    expect(c.progress(gpu.id)).toBe(1);
    expect(m.get(gpu.id).error).toMatch(/^worker crashed: the job's process ended \(killed by SIGABRT\)/);
    await c.until(next.id, 'done');
    expect(c.states(next.id)).toEqual(['queued', 'running', 'done']);
  });

  it('pause holds it, resume continues, cancel ends it as cancelled: the control word reaches the process', async () => {
    m = new JobManager(WORKER, { jobProcess: () => forkLink(STEPS_PROCESS) });
    const c = collect(m);
    const job = m.start('prune', 'on webgpu', { ...gpuDistill({ ep: 'auto' }), kind: 'prune' }, async () => undefined);
    await c.untilProgress(job.id, 2);
    m.pause(job.id);
    await sleep(100); // a message in flight may still arrive
    const atPause = c.progress(job.id);
    await sleep(300);
    expect(c.progress(job.id)).toBe(atPause);
    m.resume(job.id);
    await c.untilProgress(job.id, atPause + 3);
    m.cancel(job.id);
    await c.until(job.id, 'cancelled');
    expect(c.states(job.id)).toEqual(['queued', 'running', 'paused', 'running', 'cancelled']);
  });

  it('the real job process runs the training job and reports its error (a CPU job stays in a worker thread)', async () => {
    let started = 0;
    m = new JobManager(WORKER, {
      jobProcess: () => {
        started++;
        return forkLink(new URL('../../engine/api/job-process.mjs', import.meta.url).pathname);
      },
    });
    const c = collect(m);
    const gpu = m.start('distill', 'on webgpu', gpuDistill({ ep: 'webgpu', preset: 'no-such-preset' }), async () => undefined);
    await c.until(gpu.id, 'failed');
    expect(m.get(gpu.id).error).toMatch(/^unknown preset "no-such-preset"/); // the training job's own validation, across the process
    expect(m.get(gpu.id).error).not.toMatch(/crashed|process ended/);
    const cpu = m.start('upscale', 'cpu', { steps: 1, ms: 1 }, async () => undefined);
    await c.until(cpu.id, 'done');
    expect(started).toBe(1);
  });
});
