// Lint: typescript-eslint's recommended rules plus Nx module boundaries (project tags
// in each project.json): apps depend on libs, never on each other; production code of
// services and shared libs depends on shared libs only — the test harness and the
// devnet's simulations are reachable from specs, the devnet, tests and tools.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const layers = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:devnet', onlyDependOnLibsWithTags: ['scope:shared', 'scope:devnet'] },
];

const boundaries = (scopes) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [...layers, { sourceTag: 'scope:service', onlyDependOnLibsWithTags: scopes }, { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: scopes }],
  },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/tmp/**', 'coverage/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(['scope:shared']),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Specs and the fixtures they share (never built into dist/, tools/build.js) may use the harness.
    files: ['**/*.spec.ts', '**/*.fixture.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['scope:shared', 'scope:testing', 'scope:devnet']) },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
