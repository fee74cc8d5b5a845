import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { createPGliteTestDatabase } from '../../../../test/support/test-database.js';
import { runHistoricImport } from '../historic-import.js';
import { readVendorExport } from './vendor-export.js';

/*
 * An earlier export, then a later one that overlaps it: the second import appends only what is new.
 * The earlier export is the fixture as exported on 2025-01-06 (vendor-import.int.spec.ts has the table):
 *   D1 created + Qualification d2; D2 created + Proposal d3; D3 created + Qualification d4;
 *   D4 created; D5 created; D6 (created d20) not yet → with the pipeline 9 events.
 * The full export adds D1's Proposal d5, amount and win d9; D2's loss d8; D3's close date, two moves;
 * D4's loss; D6 → 9 more (18 in all): D1…D4 and D6 imported, D5 unchanged.
 */
const fixture = (name: string) => fileURLToPath(new URL(`../testing/vendors/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vendor-overlap-'));
const CUT = Date.parse('2025-01-06T00:00:00Z');

/** The Salesforce fixture without the rows (CreatedDate in column `column`) from the cut on. */
function before(name: string, column: number): string {
  const [header, ...rows] = readFileSync(fixture(name), 'utf8').trimEnd().split('\n');
  const kept = rows.filter((row) => Date.parse(row.split('","')[column].replace('+0000', 'Z')) < CUT);
  const file = join(dir, `earlier-${name}`);
  writeFileSync(file, [header, ...kept].join('\n') + '\n');
  return file;
}
const earlierSalesforce = () => [
  before('salesforce.Opportunity.csv', 14),
  before('salesforce.OpportunityHistory.csv', 3),
];

/** The HubSpot fixture with the property versions from the cut on left out. */
function earlierHubSpot(): string[] {
  const page = JSON.parse(readFileSync(fixture('hubspot.deals.json'), 'utf8')) as {
    results: { createdAt: string; propertiesWithHistory: Record<string, { timestamp: string }[]> }[];
  };
  page.results = page.results.filter((deal) => Date.parse(deal.createdAt) < CUT);
  for (const deal of page.results)
    for (const [name, versions] of Object.entries(deal.propertiesWithHistory))
      deal.propertiesWithHistory[name] = versions.filter((v) => Date.parse(v.timestamp) < CUT);
  const file = join(dir, 'hubspot-earlier.json');
  writeFileSync(file, JSON.stringify(page, null, 2));
  return [file];
}

describe.each([
  [
    'salesforce',
    earlierSalesforce,
    [fixture('salesforce.Opportunity.csv'), fixture('salesforce.OpportunityHistory.csv')],
  ],
  ['hubspot', earlierHubSpot, [fixture('hubspot.deals.json')]],
] as const)('an overlapping later %s export (PGlite)', (format, earlier, later) => {
  it('appends only the changes the earlier import did not have', async () => {
    const database = await createPGliteTestDatabase();
    try {
      await migrateEventStore(database.db);
      const store = new SqlEventStore(database.db);
      const map = fixture(`${format}.stage-map.json`);
      const run = (files: readonly string[]) =>
        runHistoricImport(readVendorExport(format, files, map), { store, actorId: 'importer' });
      const first = await run(earlier());
      expect([first.refusals, first.events.appended, first.deals]).toEqual([
        [],
        9,
        { imported: 5, unchanged: 0, refused: 0 },
      ]);
      const second = await run(later);
      expect(second.refusals).toEqual([]);
      expect(second.deals).toEqual({ imported: 5, unchanged: 1, refused: 0 });
      expect(second.events).toEqual({
        appended: 9,
        byType: {
          DealCreated: 1,
          StageAdvanced: 3,
          DealValueChanged: 1,
          ExpectedCloseDateChanged: 1,
          DealWon: 1,
          DealLost: 2,
        },
      });
      expect((await store.readAll({ limit: 100 })).events).toHaveLength(18);
    } finally {
      await database.drop();
    }
  });
});
