import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import canonicalize from 'canonicalize';
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * The committed contract (docs/openapi.json), the changelog (docs/api-changes.md) and the generated
 * client (libs/client) move together: `npm run openapi` rewrites the document and the client types and
 * prints the digest a new changelog entry names.
 */
const path = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
const committed = JSON.parse(readFileSync(path('docs/openapi.json'), 'utf8')) as {
  info: { version: string };
  paths: Record<string, Record<string, { parameters?: { in: string; schema?: { format?: string } }[] }>>;
};

function latestChange(): { version: string; digest: string } {
  const changelog = readFileSync(path('docs/api-changes.md'), 'utf8');
  const entry = /^## (\d+\.\d+\.\d+) — \d{4}-\d{2}-\d{2}\n+Document: sha256 ([0-9a-f]{64})$/m.exec(changelog);
  if (!entry) throw new Error('docs/api-changes.md has no entry of the form "## X.Y.Z — date" + "Document: sha256 …"');
  return { version: entry[1], digest: entry[2] };
}

describe('the committed contract', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApiOnPostgres();
  });

  afterAll(async () => {
    await api.close();
  });

  it('is the document the API serves (else: npm run openapi, and an entry in docs/api-changes.md)', async () => {
    const { body } = await api.http().get('/openapi.json').expect(200);
    expect(body).toEqual(committed);
  });

  it('is the one the latest changelog entry names, at its version', () => {
    const latest = latestChange();
    const digest = createHash('sha256').update(canonicalize(committed)!).digest('hex');
    expect({ version: committed.info.version, digest }).toEqual(latest);
  });

  it('declares every path parameter as a UUID', () => {
    const formats = Object.values(committed.paths).flatMap((item) =>
      Object.values(item).flatMap((operation) =>
        (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.schema?.format),
      ),
    );
    expect(formats.length).toBeGreaterThan(20);
    expect(new Set(formats)).toEqual(new Set(['uuid']));
  });

  it('has generated the client types in libs/client (else: npm run openapi)', async () => {
    const file = path('libs/client/src/api-schema.d.ts');
    // As the CLI writes it (npm run openapi): its header, then the types, then Prettier.
    const generated = COMMENT_HEADER + astToString(await openapiTS(new URL(`file://${path('docs/openapi.json')}`)));
    const formatted = await prettier.format(generated, { ...(await prettier.resolveConfig(file)), filepath: file });
    expect(readFileSync(file, 'utf8') === formatted).toBe(true);
  });
});
