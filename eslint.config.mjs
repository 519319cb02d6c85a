// Lint that guards the architecture: workflow code stays deterministic, promises are handled.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'dist/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The workflow sandbox: no I/O, no Node built-ins, activities as types only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process', 'crypto', 'os', 'path'], message: 'workflows must not do I/O' },
            { group: ['pg', 'undici', 'pino', 'prom-client', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'workflows must not do I/O' },
            { group: ['../activities', '../activities/*'], allowTypeImports: true, message: 'import activities as types only' },
            {
              group: ['../src/*', '!../src/domain', '!../src/domain-validation'],
              message: 'workflows may import only the pure src/domain and src/domain-validation modules',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
