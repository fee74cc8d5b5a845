import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import canonicalize from 'canonicalize';
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import { dealErrorKinds } from '@dealstream/deals-domain';
import { pipelineErrorKinds } from '@dealstream/pipelines-domain';
import { stageMapErrorKinds } from '@dealstream/stage-maps-domain';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { OpenApiValidator } from '../support/openapi-validator.js';

/**
 * The committed contract (docs/openapi.json), the changelog (docs/api-changes.md) and the generated
 * client (libs/client) move together: `npm run openapi` rewrites the document and the client types and
 * prints the digest a new changelog entry names.
 */
const path = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
interface ResponseObject {
  content?: Record<string, { schema?: { $ref?: string; allOf?: { $ref?: string; properties?: Json }[] } }>;
}
type Json = Record<string, { enum?: string[] }>;
const committed = JSON.parse(readFileSync(path('docs/openapi.json'), 'utf8')) as {
  info: { version: string };
  paths: Record<
    string,
    Record<
      string,
      { parameters?: { in: string; schema?: { format?: string } }[]; responses: Record<string, ResponseObject> }
    >
  >;
};

/** Every problem+json response: where it is and the `code` values it lists (undefined: none listed). */
function problemResponses(): { where: string; status: number; codes: string[] | undefined }[] {
  return Object.entries(committed.paths).flatMap(([route, item]) =>
    Object.entries(item).flatMap(([method, operation]) =>
      Object.entries(operation.responses)
        .filter(([, response]) => response.content?.['application/problem+json'])
        .map(([status, response]) => {
          const schema = response.content!['application/problem+json'].schema;
          return {
            where: `${method.toUpperCase()} ${route} ${status}`,
            status: Number(status),
            codes: schema?.allOf?.[1]?.properties?.code?.enum,
          };
        }),
    ),
  );
}

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

  it('lists the problem `code` values of every error response, each answered at one status per route', () => {
    const responses = problemResponses();
    expect(responses.length).toBeGreaterThan(300);
    expect(responses.filter((response) => !response.codes?.length).map((response) => response.where)).toEqual([]);
    for (const { where, codes } of responses) {
      for (const code of codes!) expect(`${where}: ${code}`).toMatch(/: [a-z0-9]+(-[a-z0-9]+)*$/);
    }
    // Per route, a code is answered at one status only: a client can switch on `code` alone.
    const statusByRouteCode = new Map<string, number>();
    for (const { where, status, codes } of responses) {
      for (const code of codes!) {
        const key = `${where.slice(0, where.lastIndexOf(' '))} ${code}`;
        expect([key, statusByRouteCode.get(key) ?? status]).toEqual([key, status]);
        statusByRouteCode.set(key, status);
      }
    }
  });

  it('lists every domain refusal on the writes of its aggregate, at the status of its kind', () => {
    const listed = (route: string, method: string, status: number) =>
      problemResponses().find((response) => response.where === `${method} ${route} ${status}`)?.codes ?? [];
    const kinds: [string, string, Record<string, string>][] = [
      ['/deals/{id}/stage', 'POST', dealErrorKinds],
      ['/pipelines/{id}/stages', 'POST', pipelineErrorKinds],
      ['/stage-maps/{id}', 'PUT', stageMapErrorKinds],
    ];
    for (const [route, method, errorKinds] of kinds) {
      // A code the route answers as 404 (its handler looks the addressed stream up first) is listed there alone.
      const notFound = listed(route, method, 404);
      expect(notFound.length).toBe(1);
      for (const [code, kind] of Object.entries(errorKinds)) {
        const status = notFound.includes(code) ? 404 : kind === 'conflict' ? 409 : 422;
        expect([route, code, listed(route, method, status)]).toEqual([route, code, expect.arrayContaining([code])]);
      }
    }
  });

  it('is what the e2e validator holds answers to: a code a route does not list fails', () => {
    const validator = new OpenApiValidator(path('docs/openapi.json'));
    const answer = (code: string) => ({
      method: 'POST',
      url: '/deals/0d5c9d8e-8a7e-4a5e-9d2b-0c1f2a3b4c5d/win',
      status: 409,
      contentType: 'application/problem+json',
      body: { type: `https://dealstream.dev/problems/${code}`, title: 'T', status: 409, detail: 'd', code },
    });
    expect(validator.check(answer('deal-closed'))).toEqual([]);
    expect(validator.check(answer('hash-chain-broken'))).toEqual([
      expect.stringContaining('must be equal to one of the allowed values'),
    ]);
  });

  it('has generated the client types in libs/client (else: npm run openapi)', async () => {
    const file = path('libs/client/src/api-schema.d.ts');
    // As the CLI writes it (npm run openapi): its header, then the types, then Prettier.
    const generated = COMMENT_HEADER + astToString(await openapiTS(new URL(`file://${path('docs/openapi.json')}`)));
    const formatted = await prettier.format(generated, { ...(await prettier.resolveConfig(file)), filepath: file });
    expect(readFileSync(file, 'utf8') === formatted).toBe(true);
  });
});
