// Import-direction rules for MiniSR (see docs/ARCHITECTURE.md). Run: npm run deps:check
/** @type {import('dependency-cruiser').IConfiguration} */

// engine/ layers in processing order: a layer may import the ones before it, never the ones after.
// upscale sits below train because the trainer runs the teacher through the tiled upscale pass.
// compress (pruning and shrinking) sits above train: it drives the trainer with OBProx-SG.
// queue (BullMQ on Redis) sits on top: it implements the api's queue port, which the web server and Electron wire in.
const LAYERS = ['io', 'image', 'metrics', 'runtime', 'graph', 'zoo', 'importers', 'upscale', 'train', 'compress', 'api', 'queue'];

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `engine/${layer} may not import the layers above it (${LAYERS.slice(i + 1).join(', ')}): processing order, see docs/ARCHITECTURE.md`,
  severity: 'error',
  from: { path: `^engine/${layer}/` },
  to: { path: `^engine/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'engine-not-to-front-ends',
      comment: 'engine/ is pure Node: it never imports the front ends (electron/, renderer/, scripts/) nor tests',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: '^(electron|renderer|scripts|test)/' },
    },
    {
      name: 'no-engine-barrels',
      comment:
        'engine folders have no index.ts: a module imports the file that defines what it uses, so every edge ' +
        'names the module it really needs (docs/ARCHITECTURE.md)',
      severity: 'error',
      from: {},
      to: { path: '^engine/[^/]+/index\\.(ts|tsx|js|mjs)$' },
    },
    {
      name: 'engine-not-to-electron-package',
      comment: 'engine/ must run under plain Node: the electron package is for electron/ only',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: '(^|/)node_modules/electron/|^electron$' },
    },
    {
      name: 'electron-package-only-in-electron',
      comment: 'only electron/ talks to the electron package (the renderer goes through the preload bridge)',
      severity: 'error',
      from: { pathNot: '^electron/' },
      to: { path: '(^|/)node_modules/electron/|^electron$' },
    },
    {
      name: 'onnxruntime-only-in-runtime',
      comment: 'all model execution goes through engine/runtime (sessions, providers, cache)',
      severity: 'error',
      from: { pathNot: '^engine/runtime/' },
      to: { path: '(^|/)node_modules/onnxruntime-(node|common|web)/|^onnxruntime-(node|common|web)$' },
    },
    {
      name: 'renderer-engine-types-only',
      comment:
        'the renderer runs in a browser: it may import engine/ types only (import type); the one value it needs, the ' +
        'method list, comes from the contract module engine/api/types.ts, which itself imports nothing (rule below)',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: '^engine/', pathNot: '^engine/api/types\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-contract-imports-nothing',
      comment: 'engine/api/types.ts is loaded by the renderer and the preload: it must stay free of runtime imports',
      severity: 'error',
      from: { path: '^engine/api/types\\.ts$' },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderer-electron-types-only',
      comment: 'the renderer reaches Electron only through the preload bridge (window.minisr); it may share its types',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: '^electron/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderer-not-to-node',
      comment: 'the renderer runs in a browser: no Node built-ins',
      severity: 'error',
      from: { path: '^renderer/', pathNot: '\\.test\\.tsx?$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'electron-not-to-renderer-or-scripts',
      comment: 'electron/ wires the engine to a window; it does not reach into the renderer sources or the CLI',
      severity: 'error',
      from: { path: '^electron/' },
      to: { path: '^(renderer|scripts|test)/' },
    },
    {
      name: 'no-tests-from-sources',
      comment: 'shipped code never imports test code',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'no import cycles (type-only edges do not count: they vanish at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (electron is an optional dependency, absent on CLI-only installs)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^electron$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test-artifacts)/' },
    // see type-only imports too, so the renderer rule can tell them apart
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.mts', '.mjs', '.js', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
