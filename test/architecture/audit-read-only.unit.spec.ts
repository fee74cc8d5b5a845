import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSpecifiers } from '../../tools/module-boundaries.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const AUDIT_CODE = ['libs/audit/src', 'apps/api/src/audit', 'apps/cli/src/verify.command.ts'];

function sources(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full)
    .flatMap((entry) => sources(join(path, entry)))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'));
}

describe('the audit code reads the event store only', () => {
  const files = AUDIT_CODE.flatMap(sources);

  it('imports no read model and no command handlers (command-handling only for NotFoundError and EVENT_STORE)', () => {
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      importSpecifiers(readFileSync(file, 'utf8'))
        .filter(
          (specifier) =>
            specifier === '@dealstream/read-models' ||
            specifier.includes('/read-models/') ||
            ['@dealstream/deals-application', '@dealstream/pipelines-application'].includes(specifier) ||
            specifier === '@nestjs/cqrs',
        )
        .map((specifier) => `${relative(root, file)} -> ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('writes SQL only in the pseudonym key loader, which runs when the API starts', () => {
    const writing = files.filter((file) =>
      /\b(insert\s+into|update\s+\w+(\.\w+)?\s+set|delete\s+from|create\s+table|alter\s+table)\b/i.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect(writing.map((file) => relative(root, file))).toEqual(['libs/audit/src/redaction/pseudonym-key.ts']);
  });
});
