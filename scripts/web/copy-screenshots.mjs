#!/usr/bin/env node
// Copies the e2e screenshots (test-artifacts/screenshots) into docs/screenshots for the README,
// scaled to 960 px wide and palette-compressed so the repository stays small.
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const from = join(root, 'test-artifacts/screenshots');
const to = join(root, 'docs/screenshots');
const VIEWS = ['upscale', 'compare', 'batch', 'wizard', 'settings'];

await mkdir(to, { recursive: true });
const have = new Set(await readdir(from).catch(() => []));
for (const v of VIEWS) {
  if (!have.has(`${v}.png`)) {
    console.error(`missing ${v}.png: run npm run test:e2e first`);
    process.exitCode = 1;
    continue;
  }
  const info = await sharp(join(from, `${v}.png`))
    .resize({ width: 960 })
    .png({ palette: true, quality: 90, compressionLevel: 9 })
    .toFile(join(to, `${v}.png`));
  console.log(`docs/screenshots/${v}.png ${info.width}x${info.height} ${(info.size / 1024).toFixed(0)} KiB`);
}
