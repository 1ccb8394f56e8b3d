import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The import-direction rules of .dependency-cruiser.cjs, run on a small fixture tree laid out like
 * the repository: every violation planted there must be reported by its rule, and the allowed
 * imports (type-only from the renderer, lower layers from higher ones) must not be.
 */

const root = resolve(import.meta.dirname, '../..');
const config = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as IConfiguration;

const FILES: Record<string, string> = {
  'engine/graph/g.ts': 'export const g = 1;\nexport type G = number;\n',
  'engine/io/t.ts': 'export type T = number;\n',
  // lower layers may be imported
  'engine/zoo/z.ts': "import { g } from '../graph/g';\nimport type { T } from '../io/t';\nexport const z: T = g;\n",
  'engine/image/i.ts': [
    "import { g } from '../graph/g';", // layer-image
    "import * as ort from 'onnxruntime-node';", // onnxruntime-only-in-runtime
    "import { r } from '../../renderer/r';", // engine-not-to-front-ends
    'export const i = g + (ort ? 1 : 0) + r;',
  ].join('\n'),
  'engine/runtime/s.ts': "import * as ort from 'onnxruntime-node';\nexport const s = ort;\n",
  'engine/train/t.ts': "import { u } from '../upscale/u';\nexport const t = u;\n",
  'engine/upscale/u.ts': "import { t } from '../train/t';\nexport const u = 1;\nexport const x = t;\n", // layer-upscale + cycle
  'engine/api/types.ts': "import { g } from '../graph/g';\nexport const M = [g] as const;\nexport type A = number;\n", // api-contract-imports-nothing
  'engine/api/host.ts': 'export const h = 1;\nexport type H = number;\n',
  'engine/io/index.ts': "export type { T } from './t';\n",
  'engine/zoo/barrel.ts': "import type { T } from '../io';\nexport const b: T = 1;\n", // no-engine-barrels
  'electron/e.ts': 'export const e = 1;\nexport type E = number;\n',
  'renderer/r.ts': [
    "import { h } from '../engine/api/host';", // renderer-engine-types-only
    "import { M, type A } from '../engine/api/types';", // allowed: the contract
    "import { readFileSync } from 'node:fs';", // renderer-not-to-node
    "import { e } from '../electron/e';", // renderer-electron-types-only
    'export const r: A = h + M.length + (readFileSync ? 1 : 0) + e;',
  ].join('\n'),
  'renderer/ok.ts': "import type { H } from '../engine/api/host';\nimport type { E } from '../electron/e';\nexport const ok: H | E = 1;\n",
};

let dir = '';
let found: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'minisr-deps-'));
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const result = await cruise(
    ['engine', 'renderer', 'electron'],
    { validate: true, ruleSet: { forbidden: config.forbidden ?? [] }, ...config.options, tsConfig: undefined, baseDir: dir },
    { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  );
  if (typeof result.output === 'string') throw new Error('expected a structured cruise result');
  found = result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('import-direction rules (.dependency-cruiser.cjs)', () => {
  it.each([
    ['layer-image', 'engine/image/i.ts -> engine/graph/g.ts'],
    ['layer-upscale', 'engine/upscale/u.ts -> engine/train/t.ts'],
    ['engine-not-to-front-ends', 'engine/image/i.ts -> renderer/r.ts'],
    ['api-contract-imports-nothing', 'engine/api/types.ts -> engine/graph/g.ts'],
    ['renderer-engine-types-only', 'renderer/r.ts -> engine/api/host.ts'],
    ['renderer-electron-types-only', 'renderer/r.ts -> electron/e.ts'],
    ['renderer-not-to-node', 'renderer/r.ts -> fs'],
    ['no-engine-barrels', 'engine/zoo/barrel.ts -> engine/io/index.ts'],
  ])('%s reports %s', (rule, edge) => {
    expect(found).toContain(`${rule}: ${edge}`);
  });

  it('onnxruntime-node only from engine/runtime', () => {
    const ort = found.filter((v) => v.startsWith('onnxruntime-only-in-runtime:'));
    expect(ort).toHaveLength(1);
    expect(ort[0]).toMatch(/^onnxruntime-only-in-runtime: engine\/image\/i\.ts -> .*node_modules\/onnxruntime-node\//);
  });

  it('reports the runtime cycle', () => {
    expect(found.some((v) => v.startsWith('no-circular: ') && /engine\/(train|upscale)\//.test(v))).toBe(true);
  });

  it('allows type-only imports from the renderer, the contract module and lower layers', () => {
    expect(found.filter((v) => v.includes('renderer/ok.ts') || v.includes('engine/zoo/z.ts'))).toEqual([]);
    expect(found.filter((v) => v.includes('-> engine/api/types.ts'))).toEqual([]);
  });
});
