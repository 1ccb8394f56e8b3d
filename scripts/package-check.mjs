#!/usr/bin/env node
// `npm run package:check`: packs the Linux app directory with electron-builder against a stand-in
// for the Electron distribution (its binary cannot be downloaded offline), checks the layout and
// the fuses, then copies the package out of the checkout and runs the packaged job worker with
// plain Node: it must load onnxruntime-node and sharp from where the package put them and upscale
// an image. `--no-build` reuses dist/; `--keep` leaves the temporary folders for inspection.
import { listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), 'minisr-package-'));
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', timeout: 600_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** The file names electron-builder copies from an Electron distribution, and a binary carrying a fuse wire. */
function standInElectron(dir) {
  mkdirSync(join(dir, 'locales'), { recursive: true });
  for (const f of ['LICENSE', 'LICENSES.chromium.html', 'chrome_100_percent.pak', 'resources.pak', 'icudtl.dat', 'v8_context_snapshot.bin'])
    writeFileSync(join(dir, f), '');
  // @electron/fuses finds the wire after this sentinel: version 1, eight fuses, all enabled ('1').
  const wire = Buffer.concat([Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, 8]), Buffer.from('11111111')]);
  writeFileSync(join(dir, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\nexit 1\n'), wire]));
  chmodSync(join(dir, 'electron'), 0o755);
}

function sizeMB(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size / 1e6;
  return readdirSync(path).reduce((sum, f) => sum + sizeMB(join(path, f)), 0);
}

/** The worker must not find the checkout's node_modules by climbing from the copied tree. */
function hasNodeModulesAbove(dir) {
  for (let d = dir; d !== parse(d).root; d = dirname(d)) if (existsSync(join(d, 'node_modules'))) return true;
  return existsSync(join(parse(dir).root, 'node_modules'));
}

// A worker thread driven like engine/api/jobs.ts drives it, with nothing but Node's own modules.
const DRIVER = `import { Worker } from 'node:worker_threads';
const [workerPath, task] = [process.argv[2], JSON.parse(process.argv[3])];
const w = new Worker(new URL(workerPath), { workerData: { task, control: new SharedArrayBuffer(4) } });
w.on('message', (m) => {
  if (m.type === 'done') { console.log(JSON.stringify(m.result)); void w.terminate(); }
  if (m.type === 'error') { console.error(m.message); process.exitCode = 1; void w.terminate(); }
});
w.on('error', (e) => { console.error(e.stack ?? e); process.exitCode = 1; });
`;

try {
  if (!args.has('--no-build')) {
    run('npm', ['run', 'build:renderer']);
    run('npm', ['run', 'build:electron']);
  }
  const dist = join(work, 'electron-dist');
  const out = join(work, 'out');
  standInElectron(dist);
  const cli = createRequire(import.meta.url).resolve('electron-builder/cli.js');
  run(process.execPath, [
    cli,
    '--config',
    'electron-builder.yml',
    '--linux',
    'dir',
    '--x64',
    `-c.electronDist=${dist}`,
    `-c.directories.output=${out}`,
  ]);

  const app = join(out, 'linux-unpacked');
  const resources = join(app, 'resources');
  const inAsar = new Set(listPackage(join(resources, 'app.asar'), { isPack: false }).map((p) => p.replaceAll('\\', '/')));
  for (const f of [
    '/dist/electron/main.mjs',
    '/dist/electron/preload.cjs',
    '/dist/electron/job-worker.mjs',
    '/dist/electron/job-process.mjs',
    '/dist/electron/gpu-child.mjs',
    '/dist/renderer/index.html',
  ])
    check(inAsar.has(f), `app.asar holds ${f}`);
  check(![...inAsar].some((p) => p.endsWith('.map')), 'no source maps in app.asar');
  for (const dev of ['tsx', 'esbuild', '@esbuild', 'electron', 'typescript', 'vite'])
    check(!inAsar.has(`/node_modules/${dev}`), `no ${dev} in the app`);
  const ortBin = join(resources, 'app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6');
  const platforms = existsSync(ortBin) ? readdirSync(ortBin).flatMap((p) => readdirSync(join(ortBin, p)).map((a) => `${p}/${a}`)) : [];
  check(platforms.join() === 'linux/x64', `only linux/x64 onnxruntime-node binaries (found: ${platforms.join(', ') || 'none'})`);
  const models = existsSync(join(resources, 'models')) ? readdirSync(join(resources, 'models')) : [];
  for (const m of readdirSync(join(root, 'models')).filter((f) => /\.(onnx|json)$/.test(f)))
    check(models.includes(m), `resources/models holds ${m}`);

  const wire = await getCurrentFuseWire(join(app, 'minisr'));
  const want = {
    RunAsNode: '0',
    EnableCookieEncryption: '1',
    EnableNodeOptionsEnvironmentVariable: '0',
    EnableNodeCliInspectArguments: '0',
    EnableEmbeddedAsarIntegrityValidation: '1',
    OnlyLoadAppFromAsar: '1',
  };
  for (const [name, state] of Object.entries(want))
    check(String.fromCharCode(wire[FuseV1Options[name]]) === state, `fuse ${name} ${state === '1' ? 'on' : 'off'}`);

  // The installed app: a copy far from the checkout, so module resolution cannot fall back on it.
  const installed = join(work, 'installed');
  cpSync(app, installed, { recursive: true, verbatimSymlinks: true });
  check(!hasNodeModulesAbove(installed), `no node_modules above ${installed}`);
  const input = join(work, 'photo.png');
  const output = join(work, 'photo-x2.png');
  await sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 200, g: 120, b: 40 } } })
    .png()
    .toFile(input);
  writeFileSync(join(work, 'driver.mjs'), DRIVER);
  const task = {
    kind: 'upscale',
    input,
    output,
    modelPath: join(installed, 'resources/models/edsr-mini-x2.onnx'),
    scale: 2,
    ep: 'cpu',
    tile: 0,
    threads: 1,
    format: 'png',
    quality: 90,
    keepMetadata: false,
  };
  const worker = pathToFileURL(join(installed, 'resources/app.asar.unpacked/dist/electron/job-worker.mjs')).href;
  const r = spawnSync(process.execPath, [join(work, 'driver.mjs'), worker, JSON.stringify(task)], {
    cwd: work,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_PATH: '' },
  });
  if (r.status !== 0) console.error(r.stdout, r.stderr);
  check(r.status === 0, 'the packaged job worker runs from the copied tree');
  const meta = existsSync(output) ? await sharp(output).metadata() : undefined;
  check(meta?.width === 48 && meta?.height === 32, `it upscaled 24x16 to ${meta ? `${meta.width}x${meta.height}` : 'nothing'}`);

  console.log(
    `package size (linux-x64, stand-in Electron excluded): ${sizeMB(resources).toFixed(1)} MB ` +
      `(app.asar ${sizeMB(join(resources, 'app.asar')).toFixed(1)} MB, unpacked ${sizeMB(join(resources, 'app.asar.unpacked')).toFixed(1)} MB, ` +
      `models ${sizeMB(join(resources, 'models')).toFixed(1)} MB)`,
  );
} finally {
  if (args.has('--keep')) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`package:check: ${failures.length} check(s) failed`);
  process.exit(1);
}
