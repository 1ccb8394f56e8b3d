import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DIALOG_CHANNELS, engineChannel, type Envelope } from '../../electron/channels';
import type { ElectronMain, IpcMainInvokeEventLike } from '../../electron/main/electron-api';
import { startApp, type RunningApp } from '../../electron/main/index';
import { utilityJobProcess, utilityLink } from '../../electron/main/utility-processes';
import type { JobProcessInput } from '../../engine/api/job-process';
import { JobManager, type WorkerMessage } from '../../engine/api/jobs';
import type { EngineEvent, JobInfo, JobState } from '../../engine/api/types';
import { nodeUtilityProcess } from '../helpers/fake-utility';
import { FakeWindow } from '../helpers/fake-electron';

/**
 * Training jobs on a GPU provider in the desktop app: each in an Electron utility process, here a
 * Node child with an emulated `process.parentPort` (test/helpers/fake-utility.ts), running the
 * real job-process entry.
 */

const JOB_PROCESS = fileURLToPath(new URL('../../engine/api/job-process.mjs', import.meta.url));
const ABORTING = fileURLToPath(new URL('../fixtures/electron/abort-job.mjs', import.meta.url));
const WORKER = new URL('../fixtures/api/steps-worker.mjs', import.meta.url);
const badDistill = { kind: 'distill', outDir: '/nonexistent', config: { steps: 10, ep: 'webgpu', preset: 'no-such-preset' } } as const;

function until(m: JobManager, id: string, state: JobState): Promise<void> {
  return new Promise((ok) => {
    const f = (e: EngineEvent) => {
      if (e.type !== 'job' || e.job.id !== id || e.job.state !== state) return;
      m.off('event', f);
      ok();
    };
    m.on('event', f);
  });
}

describe('utility-process links', () => {
  it('carry messages both ways over parentPort, and say how the process ended when killed', async () => {
    const up = nodeUtilityProcess();
    const link = utilityLink<JobProcessInput, WorkerMessage>(up, JOB_PROCESS, 'MiniSR test');
    const got = new Promise<WorkerMessage>((ok) => link.onMessage(ok));
    const ended = new Promise<string>((ok) => link.onExit(ok));
    link.send({ type: 'start', task: badDistill as never });
    const reply = await Promise.race([got, ended.then((how) => Promise.reject(new Error(`ended first: ${how}`)))]);
    expect(reply).toMatchObject({ type: 'error', message: expect.stringMatching(/^unknown preset "no-such-preset"/), cancelled: false });
    link.kill();
    expect(await ended).toMatch(/^exit code 143\b/); // SIGTERM
    expect(up.forks).toEqual([{ entry: JOB_PROCESS, serviceName: 'MiniSR test' }]);
    expect(up.strays).toEqual([]); // the entry spoke over the port only
  }, 30_000);
});

describe('JobManager with utility job processes (the desktop app)', () => {
  let m: JobManager;
  afterEach(async () => m?.close());

  it('runs the real job process: the training job reports its own error; a CPU job stays in a worker thread', async () => {
    const up = nodeUtilityProcess();
    m = new JobManager(WORKER, { jobProcess: utilityJobProcess(up, JOB_PROCESS) });
    const gpu = m.start('distill', 'on webgpu', badDistill, async () => undefined);
    await until(m, gpu.id, 'failed');
    expect(m.get(gpu.id).error).toMatch(/^unknown preset "no-such-preset"/);
    const cpu = m.start('upscale', 'cpu', { steps: 1, ms: 1 }, async () => undefined);
    await until(m, cpu.id, 'done');
    expect(up.forks).toEqual([{ entry: JOB_PROCESS, serviceName: 'MiniSR training' }]);
    expect(up.strays).toEqual([]);
  }, 30_000);

  it('a native abort fails the job with how its process ended; the next job runs', async () => {
    const up = nodeUtilityProcess();
    m = new JobManager(WORKER, { jobProcess: utilityJobProcess(up, ABORTING) });
    const events: EngineEvent[] = [];
    m.on('event', (e) => events.push(e));
    const gpu = m.start('prune', 'on auto', { ...badDistill, kind: 'prune', config: { steps: 10, ep: 'auto' } }, async () => undefined);
    const next = m.start('upscale', 'next', { steps: 2, ms: 1 }, async () => undefined);
    await until(m, gpu.id, 'failed');
    expect(events.filter((e) => e.type === 'progress' && e.jobId === gpu.id)).toHaveLength(1);
    expect(m.get(gpu.id).error).toMatch(/^worker crashed: the job's process ended \(exit code 134\b/);
    await until(m, next.id, 'done');
  }, 30_000);
});

describe('startApp hands the engine utility job processes', () => {
  let dir: string;
  let running: RunningApp;
  const up = nodeUtilityProcess();
  const handlers = new Map<string, (e: IpcMainInvokeEventLike, ...a: unknown[]) => Promise<unknown>>();
  const invoke = <T>(channel: string, ...args: unknown[]) =>
    handlers.get(channel)!({ senderFrame: { url: 'minisr-app://app/index.html' } }, ...args) as Promise<Envelope<T>>;
  let chosen: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minisr-electron-jobs-'));
    await mkdir(join(dir, 'renderer'));
    await writeFile(join(dir, 'renderer/index.html'), '<html></html>');
    await mkdir(join(dir, 'data'));
    const electron: ElectronMain = {
      app: {
        whenReady: async () => {},
        on: () => {},
        requestSingleInstanceLock: () => true,
        quit: () => {},
        getPath: () => join(dir, 'userdata'),
        getVersion: () => '1.0.0',
        isPackaged: false,
      },
      BrowserWindow: FakeWindow,
      ipcMain: { handle: (c, h) => void handlers.set(c, h), removeHandler: (c) => void handlers.delete(c) },
      dialog: { showOpenDialog: async () => ({ canceled: false, filePaths: chosen }), showSaveDialog: async () => ({ canceled: true }) },
      Menu: { buildFromTemplate: () => 'menu', setApplicationMenu: () => {} },
      shell: { showItemInFolder: () => {} },
      protocol: { registerSchemesAsPrivileged: () => {}, handle: () => {} },
      session: { defaultSession: { setPermissionRequestHandler: () => {}, setPermissionCheckHandler: () => {} } },
      utilityProcess: up,
    };
    running = (await startApp(electron, {
      rendererDir: join(dir, 'renderer'),
      preloadPath: '/x/preload.cjs',
      modelsDir: join(dir, 'models'),
      jobProcessPath: JOB_PROCESS,
    }))!;
  });
  afterAll(async () => {
    await running?.host.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a prune on the auto provider (the default setting) runs in a utility process on the job-process entry', async () => {
    chosen = [join(dir, 'teacher.pth')];
    expect(await invoke(DIALOG_CHANNELS.openCheckpoint)).toMatchObject({ ok: true });
    chosen = [join(dir, 'data')];
    expect(await invoke(DIALOG_CHANNELS.openFolder)).toMatchObject({ ok: true });
    const started = await invoke<JobInfo>(engineChannel('startPrune'), {
      teacher: join(dir, 'teacher.pth'),
      teacherPreset: 'edsr-mini',
      dataDir: join(dir, 'data'),
      steps: 1,
      lambda: 1e-3,
    });
    expect(started).toMatchObject({ ok: true, result: { kind: 'prune' } });
    const id = (started as { result: JobInfo }).result.id;
    let job: JobInfo | undefined;
    for (let i = 0; i < 300 && !(job && ['failed', 'done'].includes(job.state)); i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      job = ((await invoke<JobInfo[]>(engineChannel('listJobs'))) as { result: JobInfo[] }).result.find((j) => j.id === id);
    }
    expect(up.forks).toEqual([{ entry: JOB_PROCESS, serviceName: 'MiniSR training' }]);
    expect(up.strays).toEqual([]);
    // The missing teacher fails the job inside its process, which reports it: it did not crash.
    expect(job).toMatchObject({ state: 'failed' });
    expect(job!.error).not.toMatch(/crashed|process ended/);
  }, 45_000);
});
