import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { utilityJobProcess } from '../../electron/main/utility-processes';
import { JobManager } from '../../engine/api/jobs';
import { nodeUtilityProcess } from '../helpers/fake-utility';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');

/**
 * The bundled main process (what electron-builder packages) started under plain Node with a fake
 * `electron` package: checks that the bundle resolves its paths, wires the window securely and
 * answers IPC through the real engine.
 */
describe('bundled Electron main (dist/electron) under a fake electron', () => {
  let app: string;
  let report: Record<string, unknown> & { windows: { webPreferences: Record<string, unknown> }[] };

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'minisr-bundle-'));
    await run(process.execPath, [join(REPO, 'scripts/build-electron.mjs'), join(app, 'dist/electron')], { cwd: REPO });
    await mkdir(join(app, 'dist/renderer'), { recursive: true });
    await writeFile(join(app, 'dist/renderer/index.html'), '<html><head></head><body>bundled</body></html>');
    // node_modules: the repository's packages, plus the fake electron.
    await mkdir(join(app, 'node_modules/electron'), { recursive: true });
    for (const name of await readdir(join(REPO, 'node_modules'))) {
      if (name !== 'electron' && name !== '.bin') await symlink(join(REPO, 'node_modules', name), join(app, 'node_modules', name));
    }
    await copyFile(join(REPO, 'test/fixtures/electron/fake-electron.cjs'), join(app, 'node_modules/electron/index.js'));
    await writeFile(join(app, 'node_modules/electron/package.json'), '{"name":"electron","main":"index.js"}');
    await symlink(join(REPO, 'models'), join(app, 'models'));
    const reportPath = join(app, 'report.json');
    await run(process.execPath, [join(app, 'dist/electron/main.mjs')], {
      cwd: app,
      env: { ...process.env, FAKE_USER_DATA: join(app, 'userdata'), FAKE_REPORT: reportPath },
      timeout: 60_000,
    });
    report = JSON.parse(await readFile(reportPath, 'utf8'));
  });

  it('bundles main (ESM), preload (CommonJS), the job worker, the job process and the GPU process', () => {
    for (const f of ['main.mjs', 'preload.cjs', 'job-worker.mjs', 'job-process.mjs', 'gpu-child.mjs'])
      expect(existsSync(join(app, 'dist/electron', f)), f).toBe(true);
  });

  it('the bundled job process runs a training job in a utility process, over its parentPort', async () => {
    const up = nodeUtilityProcess();
    const jobs = new JobManager(undefined, { jobProcess: utilityJobProcess(up, join(app, 'dist/electron/job-process.mjs')) });
    try {
      const task = { kind: 'distill', outDir: join(app, 'run'), config: { steps: 1, ep: 'webgpu', preset: 'no-such-preset' } };
      const job = jobs.start('distill', 'on webgpu', task, async () => undefined);
      await new Promise<void>((ok) => jobs.on('event', (e) => e.type === 'job' && e.job.id === job.id && e.job.state === 'failed' && ok()));
      // The training job's own validation, from the bundle: it loaded, ran and answered.
      expect(jobs.get(job.id).error).toMatch(/^unknown preset "no-such-preset"/);
      expect(up.strays).toEqual([]);
    } finally {
      await jobs.close();
    }
  }, 30_000);

  it('opens one secure window on the app scheme with the bundled preload', () => {
    expect(report.schemes).toEqual(['minisr-app', 'minisr-image']);
    expect(report.windows).toHaveLength(1);
    expect(report.windows[0]!.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      preload: join(app, 'dist/electron/preload.cjs'),
    });
    expect(report.loaded).toEqual(['minisr-app://app/index.html']);
    expect(report.permissions).toEqual([false]);
    expect(report.menuItems).toBeGreaterThan(2);
  });

  it('answers IPC through the engine, validates it, and serves the renderer with a CSP', () => {
    const calls = report.calls as Record<string, { ok: boolean; result?: unknown; error?: unknown }>;
    expect(calls.systemInfo).toMatchObject({ ok: true, result: { transport: 'ipc', version: '0.0.0-fake' } });
    expect(calls.listModels!.ok).toBe(true);
    expect((calls.listModels!.result as { id: string }[]).map((m) => m.id)).toContain('edsr-baseline-x2');
    expect(calls.badShape).toMatchObject({ ok: false, error: { code: 'bad-request', field: 'cancelJob.params.0' } });
    const page = (report.pages as Record<string, { status: number; csp: string; body: string }>).index!;
    expect(page.status).toBe(200);
    expect(page.body).toContain('bundled');
    expect(page.csp).toContain("default-src 'none'");
  });
});
