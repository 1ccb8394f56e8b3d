import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = resolve(import.meta.dirname, '../..');

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { icon: string };
  directories: { buildResources: string };
}

const config = async () => parse(await readFile(join(REPO, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

/** The builder configuration's promises; npm run package:check proves them on a packed app. */
describe('electron-builder.yml', () => {
  it('flips the fuses: no run-as-node, NODE_OPTIONS or inspect; cookie encryption, asar integrity, asar only', async () => {
    expect((await config()).electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('keeps only the target platform onnxruntime-node binaries and unpacks the worker and the processes with the modules', async () => {
    const c = await config();
    expect(c.files).toContain('!node_modules/**');
    expect(c.files).toContain('node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/**');
    expect(c.files.filter((f) => f.startsWith('node_modules/onnxruntime-node/bin'))).toHaveLength(1);
    expect(c.asarUnpack).toEqual(
      expect.arrayContaining([
        'node_modules/**',
        'dist/electron/job-worker.mjs',
        'dist/electron/job-process.mjs',
        'dist/electron/gpu-child.mjs',
      ]),
    );
  });

  it('has the icons electron-builder reads, square and at the advertised sizes', async () => {
    const c = await config();
    const dir = join(REPO, c.directories.buildResources);
    expect(await sharp(join(dir, 'icon.png')).metadata()).toMatchObject({ width: 1024, height: 1024 });
    for (const size of [16, 32, 48, 64, 128, 256, 512]) {
      expect(await sharp(join(dir, c.linux.icon, `${size}x${size}.png`)).metadata()).toMatchObject({ width: size, height: size });
    }
  });
});
