import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeOnnx } from '../graph/onnx';
import { cardPathFor, isZooCard, readAnyCard, type AnyCard } from '../zoo/card';
import { cardFromOnnx } from '../zoo/infer';
import { passesFor } from '../upscale/pipeline';
import { NotFoundError } from './images';
import { ValidationError } from './schema';
import type { ModelInfo } from './types';

/**
 * The model list the UI shows: every `.onnx` in the shipped folder and the user's models folder,
 * described by its model card (beside the file or in its metadata). Cards are re-read only
 * when the file changes.
 */

/** Students at or under this many parameters are "compact" (EDSRmini has 49,603, SwinIRmini 98,868). */
const COMPACT_PARAMS = 200_000;

interface Cached {
  readonly mtimeMs: number;
  readonly info: ModelInfo;
}

function label(id: string, card: AnyCard | undefined): string {
  const pretty = id
    .replace(/-x\d(?=$|-)/, '')
    .replace(/^edsr/i, 'EDSR')
    .replace(/^swinir/i, 'SwinIR');
  return `${pretty} x${card?.scale ?? '?'}`;
}

async function describe(path: string, id: string, source: ModelInfo['source']): Promise<ModelInfo> {
  let card: AnyCard | undefined;
  if (existsSync(cardPathFor(path))) card = await readAnyCard(cardPathFor(path));
  const bytes = card ? undefined : await readFile(path);
  if (bytes) {
    try {
      card = cardFromOnnx(bytes);
    } catch {
      card = undefined; // a foreign ONNX file
    }
  }
  if (!card) {
    const s = summarizeOnnx(bytes!);
    const out = s.outputs[0]?.shape[2];
    const inp = s.inputs[0]?.shape[2];
    const scale = typeof out === 'number' && typeof inp === 'number' && inp > 0 ? out / inp : 0;
    return { id, label: id, family: 'onnx', scale, params: 0, compact: false, source };
  }
  const psnr = card.metrics ? Object.fromEntries(Object.entries(card.metrics).map(([k, v]) => [k, v.psnr])) : undefined;
  return {
    id,
    label: label(id, card),
    // Imported models outside the zoo's families are named by their card's architecture.
    family: isZooCard(card) ? card.config.family : card.imported.architecture,
    ...(isZooCard(card) && card.preset ? { preset: card.preset } : {}),
    scale: card.scale,
    params: card.params,
    ...(card.flops ? { gflops640x360: card.flops.at640x360 / 1e9, gflopsPerMegapixel: card.flops.perMegapixel / 1e9 } : {}),
    ...(psnr ? { psnr } : {}),
    compact: card.params <= COMPACT_PARAMS,
    source,
    ...(typeof card.description === 'string' ? { description: card.description } : {}),
  };
}

export class ModelCatalog {
  private readonly cache = new Map<string, Cached>();
  private paths = new Map<string, string>();

  constructor(
    readonly shippedDir: string,
    readonly userDir: string,
  ) {}

  async list(): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    // Built apart and swapped in at the end: calls overlap (a page's and a job's), and one that
    // cleared a shared map mid-way made another skip models it took for shadowed ones.
    const paths = new Map<string, string>();
    for (const [dir, source] of [
      [this.shippedDir, 'shipped'],
      [this.userDir, 'user'],
    ] as const) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.toLowerCase().endsWith('.onnx')).sort()) {
        const path = join(dir, name);
        const id = name.slice(0, -5);
        if (paths.has(id)) continue; // shipped wins over a user model of the same name
        try {
          const { mtimeMs } = await stat(path);
          let hit = this.cache.get(path);
          if (!hit || hit.mtimeMs !== mtimeMs) {
            hit = { mtimeMs, info: await describe(path, id, source) };
            this.cache.set(path, hit);
          }
          paths.set(id, path);
          out.push(hit.info);
        } catch {
          // unreadable or broken model file: not offered
        }
      }
    }
    this.paths = paths;
    return out;
  }

  /** The file of a model id, or a NotFoundError listing the ids on offer. */
  async path(id: string): Promise<string> {
    if (!this.paths.has(id)) await this.list();
    const p = this.paths.get(id);
    if (!p) throw new NotFoundError(`unknown model ${JSON.stringify(id)}; available: ${[...this.paths.keys()].join(', ') || 'none'}`);
    return p;
  }

  /**
   * The file of a model id, refusing before any work starts a scale the model cannot reach
   * (scale = model scale ^ passes: x3 only with a x3 model). A model of unknown scale (a foreign
   * ONNX file) is left to the engine.
   */
  async pathAt(id: string, scale: number): Promise<string> {
    const p = await this.path(id);
    const info = this.cache.get(p)?.info;
    if (info && info.scale >= 2) {
      try {
        passesFor(scale, info.scale);
      } catch (e) {
        throw new ValidationError('scale', `${(e as Error).message}; ${id} is a x${info.scale} model`);
      }
    }
    return p;
  }
}
