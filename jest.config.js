// Jest runs the TypeScript sources directly: ESM through swc, started with --experimental-vm-modules (package.json "test:jest").
// Tiers are selected by file suffix: *.unit.spec.ts, *.int.spec.ts, *.e2e.spec.ts.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { swcOptions } from './tools/swc-options.js';

const { compilerOptions } = JSON.parse(readFileSync(new URL('./tsconfig.base.json', import.meta.url), 'utf8'));
// Each alias matches exactly (`@dealstream/deals-domain` never catches `@dealstream/deals-domain/testing`).
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const aliases = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${escapeRegExp(alias)}$`, `<rootDir>/${target}`]),
);

// The e2e suites check every response against docs/openapi.json and count them here (printed by the reporter).
process.env.OPENAPI_VALIDATION_COUNT_FILE ??= join(tmpdir(), `dealstream-openapi-validated-${process.pid}.txt`);

const swc = ['@swc/jest', swcOptions];

const common = {
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    ...aliases,
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // @fastify/static require()s content-disposition 3, which is ESM only: Node ≥ 20.19 loads it, Jest's
    // runtime on Node 20 cannot. Its `create` (the one function used) is the same in the CommonJS 2.x.
    '^content-disposition$': '<rootDir>/node_modules/content-disposition/dist/index.js',
  },
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

// The int and e2e tiers: a private PostgreSQL server per jest worker (started once for both tiers;
// TEST_POSTGRES_URL set = that one server for every file instead). See test/support/postgres-per-worker.js.
const postgresPerWorker = {
  globalSetup: '<rootDir>/test/support/postgres-per-worker.setup.js',
  globalTeardown: '<rootDir>/test/support/postgres-per-worker.teardown.js',
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts'] },
    { ...common, ...postgresPerWorker, displayName: 'int', testMatch: ['<rootDir>/**/*.int.spec.ts'] },
    {
      ...common,
      ...postgresPerWorker,
      displayName: 'e2e',
      testMatch: ['<rootDir>/**/*.e2e.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/openapi-validation.setup.ts'],
    },
    // The web console in headless Chromium against the built API (test/browser; needs `npm run build`).
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/**/*.browser.spec.ts'] },
  ],
  reporters: ['default', '<rootDir>/test/support/openapi-count.reporter.js'],
  // A worker that holds more than this after a test file is replaced by a fresh one: memory a file
  // leaves behind (module registries, PGlite's WebAssembly heaps) otherwise piles up over ~150 files
  // until the garbage collector runs near V8's heap limit and every later file crawls (seen in band:
  // one 4 GB process, simple files taking minutes). Not applied with --runInBand / --maxWorkers=1.
  workerIdleMemoryLimit: '1GB',
  testTimeout: 120000,
};
