import { fileURLToPath } from 'node:url';
import { findViolations, importSpecifiers } from '../../tools/module-boundaries.js';

const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));
const badWorkspace = fileURLToPath(new URL('./__fixtures__/bad-workspace', import.meta.url));
const testingLeakWorkspace = fileURLToPath(new URL('./__fixtures__/testing-leak-workspace', import.meta.url));

describe('module boundaries', () => {
  it('holds for the whole workspace', () => {
    expect(findViolations(workspaceRoot)).toEqual([]);
  });

  it('catches a domain lib importing infrastructure, a package and another project by relative path', () => {
    const violations = findViolations(badWorkspace);
    expect(violations.map((v) => `${v.file} -> ${v.specifier}`).sort()).toEqual([
      'libs/bad/domain/src/bad.decider.ts -> ../../../infra/src/store.js',
      'libs/bad/domain/src/bad.decider.ts -> @dealstream/bad-infra',
      'libs/bad/domain/src/bad.decider.ts -> @nestjs/common',
      'libs/bad/domain/src/bad.decider.ts -> kysely',
      'libs/bad/domain/src/bad.decider.ts -> node:crypto',
      'libs/infra/src/store.ts -> @nestjs/core',
    ]);
  });

  it('catches production files importing a testing entry point, by alias or by relative path, and lets specs and testing/ files import it', () => {
    const violations = findViolations(testingLeakWorkspace);
    expect(violations.map((v) => `${v.file} -> ${v.specifier}: ${v.rule}`).sort()).toEqual([
      'libs/bad/domain/src/index.ts -> ./testing/bad.fixtures.js: production file imports the testing entry point ./testing/bad.fixtures.js; test helpers are for specs only',
      'libs/infra/src/uses-testing.ts -> @dealstream/bad-domain/testing: production file imports the testing entry point @dealstream/bad-domain/testing; test helpers are for specs only',
    ]);
  });

  it('reads static, side-effect, type-only and dynamic imports, ignoring comments', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '@dealstream/b';",
      "export * from './c.js';",
      "import 'reflect-metadata';",
      "const d = await import('pg');",
      "// import { e } from 'commented-out';",
      "/* import { f } from 'block-commented'; */",
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(['./a.js', './c.js', '@dealstream/b', 'pg', 'reflect-metadata']);
  });
});
