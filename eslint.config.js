// ESLint flat config. Import direction is checked by dependency-cruiser (.dependency-cruiser.cjs), not here.
// `npm run lint` runs the syntactic rules (10-17 s measured on the shared 2-core box). LINT_TYPES=1 npm run lint adds the
// type-aware ones (37-49 s there, too close to the 60 s budget for CI; their findings are not all fixed yet).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const typed = process.env.LINT_TYPES === '1';

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', 'out/', 'build/', '.cache/', 'test-artifacts/', 'models/', 'resources/', '.device/', '.gl/']),
  js.configs.recommended,
  typed ? tseslint.configs.recommendedTypeChecked : tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
      ...(typed ? { parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'scripts/web/*.mjs'] } } } : {}),
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (positional callback args, destructuring to omit)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // verbatimModuleSyntax keeps every value import at run time; type-only ones must say so
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // names and paths are validated by rejecting control characters on purpose (engine/api)
      'no-control-regex': 'off',
      // rethrowing with a clearer message but without { cause } loses the original stack: fix as touched
      'preserve-caught-error': 'warn',
    },
  },
  typed ? { files: ['**/*.{js,mjs,cjs}'], extends: [tseslint.configs.disableTypeChecked] } : {},
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // a sandboxed Electron preload is CommonJS: require('electron') is the only way in
    files: ['electron/preload.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // case tables keep one callback signature for every row, used or not
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unused-vars': ['error', { args: 'none', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // React Compiler rules: real findings (refs read in render, setState in effects) that need a refactor each
      'react-hooks/refs': 'warn',
      'react-hooks/set-state-in-effect': 'warn',
    },
  },
);
