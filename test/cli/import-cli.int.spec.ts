import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateEventStore } from '@dealstream/event-store';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { countStoredEvents } from '../support/read-all-written.js';

const CLI = 'dist/apps/cli/src/main.js';
const FIXTURE = 'libs/import/src/testing/acme-crm.canonical.ndjson';
const VENDORS = 'libs/import/src/testing/vendors';

/** Runs the built CLI's import; resolves with the exit code and both outputs (never rejects on exit ≠ 0). */
function cli(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'import', ...args],
      { env: { ...process.env, DATABASE_URL: url } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/* The CLI's contract (docs/import.md): reports, --json, --dry-run, --strict and the exit codes. Needs `npm run build`. */
describe('npm run cli -- import (built CLI, PostgreSQL)', () => {
  let database: TestDatabase;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'import-cli-'));
  const broken = join(dir, 'broken.ndjson');
  const stored = () => countStoredEvents(database.db);

  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 2 });
    url = database.url!;
    await migrateEventStore(database.db);
    writeFileSync(
      broken,
      [
        { type: 'header', format: 'dealstream-canonical', version: 1, sourceSystem: 'cli-crm' },
        {
          type: 'pipeline',
          sourceId: 'P',
          sourceRecordId: 'P',
          at: '2025-01-01T00:00:00Z',
          actor: 'a',
          name: 'P',
          currency: 'EUR',
          stages: [{ sourceId: 'S', name: 'S', probability: 10 }],
        },
        ...['GOOD', 'BAD'].map((id) => ({
          type: 'deal',
          sourceId: id,
          sourceRecordId: id,
          at: '2025-01-02T00:00:00Z',
          actor: 'a',
          pipeline: 'P',
          title: id,
          account: 'A',
          amount: 100,
          currency: id === 'BAD' ? 'USD' : 'EUR',
          owner: 'o',
        })),
      ]
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n',
    );
  });
  afterAll(() => database.drop());

  it('usage and unusable input exit 2 with nothing written', async () => {
    expect((await cli(url, [FIXTURE])).code).toBe(2); // no --format
    const unknown = await cli(url, ['--format', 'zoho', FIXTURE]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      'import: --format zoho: no adapter for it (canonical, salesforce, hubspot, pipedrive); convert the export to the canonical format (docs/import.md)',
    ]);
    const noMap = await cli(url, ['--format', 'hubspot', `${VENDORS}/hubspot.deals.json`]);
    expect([noMap.code, noMap.stderr.trim()]).toEqual([
      2,
      'import: --format hubspot needs --stage-map <file>: vendor stages → dealstream stages (docs/import.md)',
    ]);
    // A canonical file handed to the Salesforce adapter: its columns are not Salesforce's.
    const wrongShape = await cli(url, [
      '--format',
      'salesforce',
      '--stage-map',
      `${VENDORS}/salesforce.stage-map.json`,
      FIXTURE,
    ]);
    expect(wrongShape.code).toBe(2);
    expect(wrongShape.stderr).toMatch(
      /^import: libs\/import\/src\/testing\/acme-crm\.canonical\.ndjson:1: not a Salesforce Opportunity export/,
    );
    expect((await cli(url, ['--format', 'canonical', join(dir, 'missing.ndjson')])).code).toBe(2);
    const blankActor = await cli(url, ['--format', 'canonical', FIXTURE, '--actor', '']);
    expect([blankActor.code, blankActor.stderr.trim()]).toEqual([
      2,
      'import: --actor must be 1 to 200 printable characters on one line',
    ]);
    const notOurs = await cli(url, ['--format', 'canonical', 'package.json']);
    expect(notOurs.code).toBe(2);
    expect(notOurs.stderr).toMatch(/^import: package\.json:1: not a canonical import file/);
    expect(await stored()).toBe(0);
  });

  it('--dry-run reports what it would append and writes nothing; --strict with a refusal writes nothing (exit 1)', async () => {
    const dry = await cli(url, ['--format', 'canonical', FIXTURE, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/\(dry run: nothing written\).* 20 events would append/);
    const strict = await cli(url, ['--format', 'canonical', broken, '--strict', '--json']);
    expect(strict.code).toBe(1);
    const report = JSON.parse(strict.stdout) as {
      note: string;
      refusals: { sourceId: string; line: number; code: string }[];
    };
    expect(report.note).toBe('strict: refusals found, nothing written');
    expect(report.refusals.map((r) => [r.sourceId, r.line, r.code])).toEqual([['BAD', 4, 'currency-mismatch']]);
    expect(await stored()).toBe(0);
  });

  it('imports the rest past a refusal (exit 1), then everything (exit 0), with the report by event type', async () => {
    const partial = await cli(url, ['--format', 'canonical', broken, '--actor', 'ivy']);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain(`${broken}:4  deal BAD  currency-mismatch:`);
    expect(await stored()).toBe(2); // the pipeline and GOOD
    const full = await cli(url, ['--format', 'canonical', FIXTURE, '--json']);
    expect(full.code).toBe(0);
    const report = JSON.parse(full.stdout) as { events: { appended: number; byType: Record<string, number> } };
    expect(report.events.appended).toBe(20);
    expect(report.events.byType.StageAdvanced).toBe(6);
    const again = await cli(url, ['--format', 'canonical', FIXTURE]);
    expect([again.code, again.stdout.split('\n')[0]]).toEqual([
      0,
      expect.stringMatching(/deals 0 imported, 7 unchanged, 0 refused; 0 events appended$/),
    ]);
  });

  it('imports a Salesforce export with its stage map; again appends nothing', async () => {
    const args = [
      '--format',
      'salesforce',
      '--stage-map',
      `${VENDORS}/salesforce.stage-map.json`,
      `${VENDORS}/salesforce.Opportunity.csv`,
      `${VENDORS}/salesforce.OpportunityHistory.csv`,
    ];
    const first = await cli(url, [...args, '--json']);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { sourceSystem: string; records: number; events: { appended: number } };
    // the vendor-import spec's history: header, pipeline, 6 deals, 11 changes → 18 events
    expect([report.sourceSystem, report.records, report.events.appended]).toEqual(['acme-salesforce', 19, 18]);
    const again = await cli(url, args);
    expect([again.code, again.stdout.split('\n')[0]]).toEqual([
      0,
      expect.stringMatching(
        /from acme-salesforce: 19 records; .*deals 0 imported, 6 unchanged, 0 refused; 0 events appended$/,
      ),
    ]);
  });
});
