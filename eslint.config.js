// ESLint: typescript-eslint's recommended rules with type information over every TypeScript file
// (`npm run lint`, part of `npm test`). Each rule switched off below says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'test/architecture/__fixtures__/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks a parameter or binding kept on purpose (an exhaustiveness check, a position in a signature).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Methods that implement an async interface (Kysely's migration provider and driver, the event
      // store port in test doubles) are async without awaiting anything; that is the interface, not a slip.
      '@typescript-eslint/require-await': 'off',
      // Kysely's expression builders (`({ ref }) => …`) and the deciders (`dealDecider.evolve`) are
      // destructured by design; none of their functions uses `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Tests (and the adapters' contract suite) read HTTP answers (supertest's `body` is `any` by design) and rows of ad-hoc queries: the
    // no-unsafe-* rules would ask for a cast on every assertion without catching anything, and test
    // doubles and hostile-input generators need `any` to send what the types forbid.
    files: ['**/*.spec.ts', 'test/**/*.ts', 'libs/event-store/src/contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      globals: {
        URL: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        console: 'readonly',
        process: 'readonly',
      },
    },
  },
  // A CommonJS generator script (run with plain node): require() is its import.
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
