// The README's clean-vs-photo crops (docs/photo-variant-rocket.png, -x4.png): a 220² region of
// resources/samples/rocket.jpg at x2 (x4) as the input (nearest), edsr-mini-x2 and edsr-mini-x2-photo
// (-x4, -x4-photo), side by side. Usage: node scripts/make-photo-crop.mjs [2|4] (runs `minisr
// upscale` for both models; default 2).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const SRC = 'resources/samples/rocket.jpg';
const SCALE = Number(process.argv[2] ?? 2);
if (SCALE !== 2 && SCALE !== 4) throw new RangeError(`scale must be 2 or 4, got ${process.argv[2]}`);
// The nose cone and the sky beside it, in output pixels.
const REGION = { left: 596 * (SCALE / 2), top: 250 * (SCALE / 2), width: 220, height: 220 };
const OUT = SCALE === 2 ? 'docs/photo-variant-rocket.png' : `docs/photo-variant-rocket-x${SCALE}.png`;
const GAP = 4;
const tmp = mkdtempSync(join(tmpdir(), 'minisr-crop-'));
try {
  const panels = [
    await sharp(SRC)
      .resize({ width: 640 * SCALE, kernel: 'nearest' })
      .extract(REGION)
      .png()
      .toBuffer(),
  ];
  for (const model of [`edsr-mini-x${SCALE}`, `edsr-mini-x${SCALE}-photo`]) {
    const out = join(tmp, model);
    execFileSync(
      process.execPath,
      ['scripts/minisr.mjs', 'upscale', SRC, '-m', model, '-s', String(SCALE), '-o', out, '--format', 'png', '--8bit'],
      {
        stdio: 'inherit',
      },
    );
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
    .toFile(OUT);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
