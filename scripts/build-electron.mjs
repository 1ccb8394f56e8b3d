#!/usr/bin/env node
// Bundles the Electron main process, the preload, the job worker, the job process and the GPU
// process into dist/electron with esbuild. Native modules (onnxruntime-node, sharp) and electron
// stay external: they load from node_modules (unpacked from the asar by electron-builder).
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// An output folder argument lets tests bundle elsewhere.
const out = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist/electron');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  logLevel: 'info',
  external: ['electron', 'onnxruntime-node', 'sharp'],
};
// ESM bundles need `require` for the CommonJS dependencies they inline.
const requireShim = { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" };

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'electron/main.ts')], outfile: join(out, 'main.mjs'), format: 'esm', banner: requireShim }),
  build({
    ...common,
    entryPoints: [join(root, 'engine/api/job-worker.ts')],
    outfile: join(out, 'job-worker.mjs'),
    format: 'esm',
    banner: requireShim,
  }),
  build({
    ...common,
    entryPoints: [join(root, 'engine/api/job-process.ts')],
    outfile: join(out, 'job-process.mjs'),
    format: 'esm',
    banner: requireShim,
  }),
  build({
    ...common,
    entryPoints: [join(root, 'engine/runtime/gpu-child.ts')],
    outfile: join(out, 'gpu-child.mjs'),
    format: 'esm',
    banner: requireShim,
  }),
  build({
    ...common,
    entryPoints: [join(root, 'electron/preload.ts')],
    outfile: join(out, 'preload.cjs'),
    format: 'cjs',
    platform: 'browser',
    external: ['electron'],
  }),
]);
