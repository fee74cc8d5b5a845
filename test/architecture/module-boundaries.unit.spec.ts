import { fileURLToPath } from 'node:url';
import { findViolations, importSpecifiers } from '../../tools/module-boundaries.js';

const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));
const badWorkspace = fileURLToPath(new URL('./__fixtures__/bad-workspace', import.meta.url));

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
