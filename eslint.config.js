import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'examples/**/out/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly' } } },
  // Type-aware: a cast that asserts the type a value already has hides nothing and reads as if it did.
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'error' },
  },
  // Layers: each one imports only those below it (docs in README's Development section). CI fails on a break.
  layer(
    ['src/connectors/**'],
    ['plan', 'mapping', 'cleaning', 'protect', 'dedupe', 'engine', 'verify', 'report', 'init', 'cli'],
    'a connector knows the contract and the values, not the plan or the engine',
  ),
  layer(
    ['src/mapping/**', 'src/cleaning/**', 'src/protect/**', 'src/dedupe/**'],
    ['engine', 'verify', 'report', 'init', 'cli', 'connectors'],
    'the mapping steps work on values, below the engine and the connectors',
  ),
  layer(
    ['src/plan/**'],
    ['engine', 'verify', 'report', 'init', 'cli'],
    'the plan is read and checked before any engine runs',
  ),
  layer(
    [
      'src/values.ts',
      'src/escape-html.ts',
      'src/errors.ts',
      'src/key-order.ts',
      'src/suggest.ts',
      'src/random.ts',
      'src/timestamps.ts',
      'src/version.ts',
    ],
    ['plan', 'mapping', 'cleaning', 'protect', 'dedupe', 'connectors', 'engine', 'verify', 'report', 'init', 'cli'],
    'the base layer imports nothing of the project',
  ),
  layer(
    ['src/engine/**', 'src/verify/**', 'src/report/**', 'src/init/**'],
    ['cli'],
    'only the command line is above the library',
  ),
  // The command line is a client of the library: it imports src/index.ts and nothing else of the project.
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../index.js'],
              message: 'the CLI imports the library through src/index.ts only: export what it needs there.',
            },
          ],
        },
      ],
    },
  },
);

/** An ESLint block refusing imports of the named folders of src/ from `files`. */
function layer(files, forbidden, why) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: forbidden.flatMap((f) => [`**/${f}/*`, `./${f}/*`]), message: `${why}.` }] },
      ],
    },
  };
}
