import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', '.skyboot/**', 'coverage/**', 'bench/out/**', '.test-data/**', 'console/dist/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error',
        { object: 'describe', property: 'skip', message: 'A skipped test is a defect.' },
        { object: 'it', property: 'skip', message: 'A skipped test is a defect.' },
        { object: 'test', property: 'skip', message: 'A skipped test is a defect.' },
        { object: 'it', property: 'only', message: '.only silences the rest of the suite.' },
        { object: 'test', property: 'only', message: '.only silences the rest of the suite.' },
        { object: 'describe', property: 'only', message: '.only silences the rest of the suite.' }],
    },
  },
  {
    // The folder rules of ARCHITECTURE.md: the agent and the CLI reach the cloud only through
    // the API, so they import the contracts in schema/ (and bootscript/), never functions/.
    // The web console is a browser app that speaks only GraphQL: it imports nothing of ours.
    files: ['console/**/*.ts', 'console/**/*.tsx', 'console/**/*.js'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../../*', '../../../*'], message: 'the web console imports nothing from outside console/ (it reaches the cloud only through the GraphQL API)' },
      ] }],
    },
  },
  {
    files: ['onprem-agent/**/*.ts', 'cli/**/*.ts', 'schema/**/*.ts', 'bootscript/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/functions/**'], message: 'the agent, the CLI, schema/ and bootscript/ import nothing from functions/' },
        { group: ['**/gateway/**'], message: 'the agent, the CLI, schema/ and bootscript/ import nothing from gateway/' },
      ] }],
    },
  },
);
