#!/usr/bin/env node
// `npm start`: the desktop app when the Electron binary is installed, else web mode.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** Path of the Electron binary, or why there is none (the package throws when its download failed). */
function electronBinary() {
  try {
    const p = createRequire(import.meta.url)('electron');
    if (typeof p === 'string' && existsSync(p)) return { path: p };
    return { reason: `the electron package points at ${p}, which does not exist` };
  } catch (e) {
    return { reason: e.code === 'MODULE_NOT_FOUND' ? 'the electron package is not installed' : e.message.split('\n')[0] };
  }
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Electron's binary is fetched here, not at install (its install script is not allowed: offline installs must pass). */
function installElectronBinary() {
  const script = join(root, 'node_modules/electron/install.js');
  if (!existsSync(script) || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return;
  console.log('Fetching the Electron binary (first start)...');
  const r = spawnSync(process.execPath, [script], { cwd: join(root, 'node_modules/electron'), encoding: 'utf8' });
  if (r.status !== 0) console.log(`  could not: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
}

let electron = electronBinary();
if (!electron.path) {
  installElectronBinary();
  electron = electronBinary();
}
if (electron.path) {
  if (!existsSync(join(root, 'dist/renderer/index.html'))) run('npm', ['run', 'build:renderer']);
  run('npm', ['run', 'build:electron']);
  const child = spawn(electron.path, [root, ...args], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`Electron binary missing (${electron.reason}); starting web mode instead.`);
  console.log(
    'Open the URL below in your browser. (Where downloads work, `node node_modules/electron/install.js` fetches Electron for the desktop app.)\n',
  );
  const child = spawn(process.execPath, [join(root, 'scripts/minisr.mjs'), 'serve', ...args], { cwd: root, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
