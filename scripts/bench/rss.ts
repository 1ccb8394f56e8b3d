/**
 * Peak memory of upscaling one big image: `npx tsx scripts/bench/rss.ts [--size 8000] [--model tiny|<preset>|<id>|<file.onnx>] [--format png|jpeg] [--tile n]`.
 * Writes a size x size input (smooth colours plus noise), upscales it x2 through the file
 * pipeline and reports the process's peak RSS (getrusage ru_maxrss), sampled RSS and time.
 * `tiny` is an EDSR with 8 features and 2 blocks at random weights: the memory use of the
 * pipeline, not of the network, is what this measures.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { modelFromWeights, resolveModel } from '../../engine/upscale/model';
import { upscaleFile } from '../../engine/upscale/pipeline';
import { isPresetName, presetConfig } from '../../engine/zoo/presets';
import { randomWeights } from '../../engine/zoo/random-weights';
import { validateConfig } from '../../engine/zoo/registry';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '8000' },
    model: { type: 'string', default: 'tiny' },
    format: { type: 'string', default: 'png' },
    tile: { type: 'string', default: 'auto' },
    keep: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function model() {
  if (values.model === 'tiny') {
    const config = validateConfig({ family: 'edsr', num_feat: 8, num_block: 2, res_scale: 1 });
    return modelFromWeights('tiny', config, randomWeights(config));
  }
  if (isPresetName(values.model))
    return modelFromWeights(values.model, presetConfig(values.model), randomWeights(presetConfig(values.model)));
  return resolveModel({ model: values.model });
}

const dir = await mkdtemp(join(tmpdir(), 'minisr-rss-'));
try {
  const input = join(dir, `in.png`);
  // Gaussian noise made by libvips: worst case for the encoders, and no memory spent building it in JS.
  const noise = sharp({
    create: { width: size, height: size, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } },
  });
  await noise.png({ compressionLevel: 1 }).toFile(input);
  const inputBytes = (await stat(input)).size;
  const baseline = process.memoryUsage().rss;
  let peakSampled = 0;
  const timer = setInterval(() => (peakSampled = Math.max(peakSampled, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  const m = await model();
  const out = join(dir, `out.${values.format === 'jpeg' ? 'jpg' : values.format}`);
  let lastPct = -1;
  const res = await upscaleFile(input, out, {
    model: m,
    ep: 'cpu',
    tile: values.tile === 'auto' ? 'auto' : Number(values.tile),
    format: values.format as 'png' | 'jpeg',
    onProgress: (p) => {
      const pct = Math.floor((100 * p.tilesDone) / p.tilesTotal);
      if (pct % 10 === 0 && pct !== lastPct) {
        lastPct = pct;
        console.error(
          `  ${pct}% (${p.tilesDone}/${p.tilesTotal} tiles, ${p.megapixelsPerSec.toFixed(2)} MP/s, rss ${mb(process.memoryUsage().rss)})`,
        );
      }
    },
  });
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify(
      {
        input: `${size}x${size} PNG (${mb(inputBytes)})`,
        output: `${res.outWidth}x${res.outHeight} ${res.format} (${mb(res.bytes)})`,
        model: m.id,
        tile: res.tile,
        seconds: Number(seconds.toFixed(1)),
        rssBeforeRun: mb(baseline),
        peakRssSampled: mb(peakSampled),
        maxRss: mb(maxRss),
        maxRssBytes: maxRss,
      },
      null,
      2,
    ),
  );
} finally {
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}
