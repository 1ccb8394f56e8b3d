// The README's clean-vs-photo crop (docs/photo-variant-rocket.png): a 220² region of
// resources/samples/rocket.jpg at x2 as the input (nearest), edsr-mini-x2 and edsr-mini-x2-photo,
// side by side. Usage: node scripts/make-photo-crop.mjs (runs `minisr upscale` for both models).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const SRC = 'resources/samples/rocket.jpg';
const REGION = { left: 596, top: 250, width: 220, height: 220 }; // the nose cone and the sky beside it, in x2 pixels
const GAP = 4;
const tmp = mkdtempSync(join(tmpdir(), 'minisr-crop-'));
try {
  const panels = [await sharp(SRC).resize({ width: 1280, kernel: 'nearest' }).extract(REGION).png().toBuffer()];
  for (const model of ['edsr-mini-x2', 'edsr-mini-x2-photo']) {
    const out = join(tmp, model);
    execFileSync(process.execPath, ['scripts/minisr.mjs', 'upscale', SRC, '-m', model, '-s', '2', '-o', out, '--format', 'png', '--8bit'], {
      stdio: 'inherit',
    });
    panels.push(
      await sharp(join(out, readdirSync(out)[0]))
        .extract(REGION)
        .png()
        .toBuffer(),
    );
  }
  const width = panels.length * REGION.width + (panels.length - 1) * GAP;
  await sharp({ create: { width, height: REGION.height, channels: 3, background: '#ffffff' } })
    .composite(panels.map((input, i) => ({ input, left: i * (REGION.width + GAP), top: 0 })))
    .png()
    .toFile('docs/photo-variant-rocket.png');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
