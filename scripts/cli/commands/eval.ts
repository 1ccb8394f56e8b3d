import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { loadStateDict } from '../../../engine/io/checkpoint';
import { pairFolder } from '../../../engine/image/pairs';
import { bindWeights } from '../../../engine/zoo/build';
import { summarizeOnnx } from '../../../engine/graph/onnx';
import { CARD_METADATA_KEY, cardPathFor, isZooCard, parseAnyCard, readAnyCard, writeCard, type ModelCard } from '../../../engine/zoo/card';
import { modelFromOnnxFile } from '../../../engine/upscale/model';
import { wholeImageModel } from '../../../engine/upscale/whole-image';
import { bicubicModel, evaluateSet, type EvaluableModel, type SetResult } from '../../../engine/zoo/evaluate';
import { ImageModel } from '../../../engine/zoo/infer';
import { presetConfig } from '../../../engine/zoo/presets';
import { formatTable, positiveInt } from '../table';

interface EvalOptions {
  model?: string;
  preset?: string;
  weights?: string;
  bicubic?: boolean;
  set: string[];
  json?: boolean;
  record?: boolean;
  threads?: number;
  lrJpeg?: number;
  passes?: number;
}

/** `Set5/x2` for `../shared/datasets/Set5/x2`: the key metrics are recorded under (`Set14/x2+jpeg75`, `Set5/x4@2passes` for the variants). */
function setName(dir: string, opts: Pick<EvalOptions, 'lrJpeg' | 'passes'> = {}): string {
  const abs = path.resolve(dir);
  const jpeg = opts.lrJpeg !== undefined ? `+jpeg${opts.lrJpeg}` : '';
  const passes = (opts.passes ?? 1) > 1 ? `@${opts.passes}passes` : '';
  return `${path.basename(path.dirname(abs))}/${path.basename(abs)}${jpeg}${passes}`;
}

type OpenModel = EvaluableModel & { release(): Promise<void> };

async function openModel(opts: EvalOptions): Promise<{ model: OpenModel; card?: ModelCard; cardPath?: string }> {
  const session = opts.threads ? { threads: opts.threads } : {};
  if (opts.model) {
    if (opts.preset || opts.weights) throw new TypeError('give either --model or --preset with --weights, not both');
    const cardPath = cardPathFor(opts.model);
    const side = existsSync(cardPath) ? await readAnyCard(cardPath) : undefined;
    const bytes = await readFile(opts.model);
    const meta = summarizeOnnx(bytes).metadata[CARD_METADATA_KEY];
    const any = side ?? (meta !== undefined ? parseAnyCard(JSON.parse(meta), opts.model) : undefined);
    // An imported or foreign ONNX file (no zoo config): run it through the upscaler, whole images.
    if (!any || !isZooCard(any)) return { model: wholeImageModel(await modelFromOnnxFile(opts.model), session) };
    const card = side && isZooCard(side) ? side : undefined;
    return { model: await ImageModel.fromOnnx(bytes, card, session), ...(card ? { card, cardPath } : {}) };
  }
  if (!opts.preset || !opts.weights) throw new TypeError('give --model M.onnx, or --preset P with --weights W');
  const config = presetConfig(opts.preset);
  return { model: await ImageModel.fromWeights(config, bindWeights(config, await loadStateDict(opts.weights)), session) };
}

function printSet(r: SetResult, name: string): void {
  const rows = [['image', 'PSNR-Y (dB)', 'SSIM-Y', 'ms']];
  for (const i of r.images) rows.push([i.name, i.psnr.toFixed(3), i.ssim.toFixed(4), i.ms.toFixed(0)]);
  rows.push(['mean', r.mean.psnr.toFixed(3), r.mean.ssim.toFixed(4), '']);
  console.log(`${name} (x${r.scale})\n${formatTable(rows)}\n`);
}

/** `minisr eval`: PSNR/SSIM on the Y channel over benchmark folders of NAME_HR / NAME_LR pairs (engine/image/pairs.ts). */
export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate a model on benchmark sets (Y-channel PSNR/SSIM, border crop = scale)')
    .option('--model <file>', 'ONNX model exported by minisr (its card: <model>.json or the ONNX metadata)')
    .option('--preset <name>', 'preset, with --weights, instead of --model')
    .option('--weights <file>', 'checkpoint for --preset')
    .option('--bicubic', 'score the bicubic baseline instead of a model (LR upscaled by MATLAB-compatible bicubic)')
    .requiredOption('--set <dir...>', 'benchmark folders, e.g. ../shared/datasets/Set5/x2')
    .option('--json', 'print JSON')
    .option('--record', "write the means into the model's card (<model>.json)")
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt('--threads'))
    .option('--lr-jpeg <q>', 'JPEG-compress each LR image at quality q first (HR stays clean): photo robustness', positiveInt('--lr-jpeg'))
    .option('--passes <n>', 'apply the model n times (e.g. a x2 model twice on the x4 sets)', positiveInt('--passes'))
    .action(async (opts: EvalOptions) => {
      if (opts.bicubic && (opts.model || opts.preset || opts.weights)) throw new TypeError('give either --bicubic or a model, not both');
      if (opts.bicubic && opts.passes !== undefined) throw new TypeError('--passes applies to a model, not to --bicubic');
      // The bicubic baseline has no model to open: its scale is each set's own.
      const { model, card, cardPath } = opts.bicubic ? {} : await openModel(opts);
      if (opts.record && !(card && cardPath)) throw new TypeError('--record needs --model with a card file beside it');
      const results: SetResult[] = [];
      try {
        for (const dir of opts.set) {
          const r = await evaluateSet(model ?? bicubicModel((await pairFolder(dir)).scale), dir, {
            ...(opts.lrJpeg !== undefined ? { lrJpeg: opts.lrJpeg } : {}),
            ...(opts.passes !== undefined ? { passes: opts.passes } : {}),
          });
          results.push(r);
          if (!opts.json) printSet(r, setName(r.dir, opts));
        }
      } finally {
        await model?.release();
      }
      if (opts.json)
        console.log(
          JSON.stringify(
            results.map((r) => ({ set: setName(r.dir, opts), ...r })),
            null,
            2,
          ),
        );
      if (opts.record && card && cardPath) {
        const metrics = { ...card.metrics };
        for (const r of results)
          metrics[setName(r.dir, opts)] = { psnr: round(r.mean.psnr, 4), ssim: round(r.mean.ssim, 5), images: r.images.length };
        await writeCard(cardPath, { ...card, metrics });
        if (!opts.json) console.log(`recorded in ${cardPath}`);
      }
    });
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}
