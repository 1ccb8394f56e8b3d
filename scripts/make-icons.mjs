#!/usr/bin/env node
// Renders resources/build/icon.svg (our own artwork) into the PNGs electron-builder reads from
// resources/build: icon.png (1024 px; it derives the Windows .ico and macOS .icns from it) and
// icons/NxN.png for the Linux desktop entry. Re-run after editing the SVG and commit the output.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../resources/build');
const svg = readFileSync(join(dir, 'icon.svg'));
const render = (size, file) =>
  sharp(svg, { density: (72 * size) / 1024 })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toFile(file);

mkdirSync(join(dir, 'icons'), { recursive: true });
await render(1024, join(dir, 'icon.png'));
for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) await render(size, join(dir, 'icons', `${size}x${size}.png`));
