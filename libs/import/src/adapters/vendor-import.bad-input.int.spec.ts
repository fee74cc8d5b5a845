import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { dealStreamName } from '@dealstream/deals-domain';
import { createPGliteTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { ImportFormatError } from '../canonical/canonical-reader.js';
import type { SourcedLine } from '../canonical/canonical-records.js';
import { runHistoricImport } from '../historic-import.js';
import { importIds } from '../import-ids.js';
import type { ImportReport } from '../import-report.js';
import { readVendorExport } from './vendor-export.js';

/*
 * Bad vendor input: each broken deal is refused whole with the vendor file and line and the right
 * code, nothing of it is written, the other deals are; a file of the wrong shape stops the run before
 * anything is written. The inputs are the fixtures of vendor-import.int.spec.ts with one defect per deal.
 */
const fixture = (name: string) => fileURLToPath(new URL(`../testing/vendors/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vendor-bad-'));
function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
/** 1-based line of the first occurrence of `needle` (after the `nth − 1` earlier ones). */
function lineOf(text: string, needle: string, nth = 1): number {
  let at = -1;
  for (let i = 0; i < nth; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`fixture edit lost: ${needle}`);
  return text.slice(0, at).split('\n').length;
}
const refusals = (report: ImportReport) =>
  report.refusals
    .map((r) => [basename(r.file), r.line, r.sourceId, r.code])
    .sort((a, b) => String(a[2]).localeCompare(String(b[2])));

async function collect(lines: AsyncIterable<SourcedLine>): Promise<SourcedLine[]> {
  const out: SourcedLine[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('bad vendor input (PGlite)', () => {
  let database: TestDatabase;
  let store: EventStore;
  const written = async (system: string, sourceId: string) =>
    (await store.readStream(dealStreamName(importIds.deal(system, sourceId)))).length;

  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('Salesforce: time without zone, unknown stage, decimal minor units, unknown currency, malformed row, an id twice, orphan history', async () => {
    let opportunities = readFileSync(fixture('salesforce.Opportunity.csv'), 'utf8')
      // D2 created at a local time (a report export's format)
      .replace('"2025-01-02T00:00:00.000+0000"', '"2025-01-02 00:00:00"')
      // D4 in a currency ISO 4217 does not have
      .replace(
        '"New Customer","Omitted","EUR","0055g00000SamAAA","0055g00000SamAAA","2025-01-04',
        '"New Customer","Omitted","ZZZ","0055g00000SamAAA","0055g00000SamAAA","2025-01-04',
      );
    // D6 listed twice, the second time with another name
    const d6 = opportunities.split('\n').find((line) => line.startsWith('"0065g00000Opp06AAA"'))!;
    opportunities += d6.replace('"D6"', '"D6 renamed"') + '\n';
    const history = readFileSync(fixture('salesforce.OpportunityHistory.csv'), 'utf8')
      // D1 through a stage the map does not have
      .replace('"Proposal/Price Quote","1000.00","600.00"', '"Discovery","1000.00","600.00"')
      // D3 at a tenth of a cent
      .replace('"Qualification","3000.00","900.00","2025-03-31"', '"Qualification","3000.005","900.00","2025-03-31"')
      // D5's row with one field too many
      .replace(
        '"Prospecting","5000.00","500.00","2025-03-31","10","Pipeline","false",""',
        '"Prospecting","5000.00","500.00","2025-03-31","10","Pipeline","false","","",""',
      )
      // history of an opportunity the export does not have
      .concat(
        '"0085g00000Hst99AAA","0065g00000Opp99AAA","0055g00000SamAAA","2025-01-05T00:00:00.000+0000","Prospecting","1.00","","2025-03-31","10","Pipeline","false","","","2025-01-05T00:00:00.000+0000"\n',
      );
    const opp = write('Opportunity.csv', opportunities);
    const hist = write('OpportunityHistory.csv', history);
    const report = await runHistoricImport(
      readVendorExport('salesforce', [opp, hist], fixture('salesforce.stage-map.json')),
      {
        store,
        actorId: 'importer',
      },
    );
    expect(refusals(report)).toEqual([
      ['OpportunityHistory.csv', lineOf(history, '"Discovery"'), '0065g00000Opp01AAA', 'unknown-stage'],
      ['Opportunity.csv', 3, '0065g00000Opp02AAA', 'invalid-record'],
      ['OpportunityHistory.csv', lineOf(history, '3000.005'), '0065g00000Opp03AAA', 'invalid-amount'],
      ['Opportunity.csv', 5, '0065g00000Opp04AAA', 'invalid-currency'],
      ['OpportunityHistory.csv', lineOf(history, '"0085g00000Hst14AAA"'), '0065g00000Opp05AAA', 'invalid-record'],
      ['Opportunity.csv', 9, '0065g00000Opp06AAA', 'duplicate-source-id'],
      ['OpportunityHistory.csv', lineOf(history, '"0085g00000Hst99AAA"'), '0065g00000Opp99AAA', 'deal-not-in-export'],
    ]);
    expect(report.refusals.find((r) => r.sourceId === '0065g00000Opp02AAA')!.reason).toBe(
      'CreatedDate "2025-01-02 00:00:00" is not an instant with a zone (Z or ±hh:mm)',
    );
    expect(report.refusals.find((r) => r.sourceId === '0065g00000Opp03AAA')!.reason).toBe(
      "amount 3000.005 has more decimals than EUR's 2 minor-unit digits",
    );
    expect(report.refusals.find((r) => r.sourceId === '0065g00000Opp05AAA')!.reason).toBe(
      'OpportunityHistory row: the row has 16 fields, the header 14',
    );
    // the first D6 is imported (one event); nothing of the refused deals
    expect(report.deals).toEqual({ imported: 1, unchanged: 0, refused: 7 }); // the second D6 counts as refused
    const system = 'acme-salesforce';
    expect(await written(system, '0065g00000Opp06AAA')).toBe(1);
    for (const n of [1, 2, 3, 4, 5, 9]) expect(await written(system, `0065g00000Opp0${n}AAA`)).toBe(0);
  });

  it('HubSpot: unknown stage, decimal minor units, timestamp without zone, unknown currency, an id twice', async () => {
    const page = JSON.parse(readFileSync(fixture('hubspot.deals.json'), 'utf8')) as {
      results: {
        properties: Record<string, string>;
        propertiesWithHistory: Record<string, { value: string; timestamp: string }[]>;
      }[];
    };
    const [d1, d2, d3, d4, d5] = page.results;
    d1.propertiesWithHistory.dealstage[1].value = 'bogusstage';
    d2.propertiesWithHistory.amount[0].value = '2000.123';
    d3.propertiesWithHistory.closedate[0].timestamp = '2025-01-07T00:00:00';
    d4.properties.deal_currency_code = 'ZZZ';
    page.results.push({ ...d5, properties: { ...d5.properties, dealname: 'D5 again' } });
    const text = JSON.stringify(page, null, 2);
    const file = write('hubspot.json', text);
    const report = await runHistoricImport(readVendorExport('hubspot', [file], fixture('hubspot.stage-map.json')), {
      store,
      actorId: 'importer',
    });
    // a version's line is where its object opens, the line before its first key ("value")
    expect(refusals(report)).toEqual([
      ['hubspot.json', lineOf(text, '"value": "bogusstage"') - 1, '1001', 'unknown-stage'],
      ['hubspot.json', lineOf(text, '"value": "2000.123"') - 1, '1002', 'invalid-amount'],
      ['hubspot.json', lineOf(text, '"timestamp": "2025-01-07T00:00:00"') - 2, '1003', 'invalid-record'],
      ['hubspot.json', lineOf(text, '"id": "1004"') - 1, '1004', 'invalid-currency'],
      ['hubspot.json', lineOf(text, '"id": "1005"', 2) - 1, '1005', 'duplicate-source-id'],
    ]);
    expect(report.deals).toEqual({ imported: 2, unchanged: 0, refused: 5 }); // the second 1005 counts as refused
    for (const id of ['1001', '1002', '1003', '1004']) expect(await written('acme-hubspot', id)).toBe(0);
    expect(await written('acme-hubspot', '1006')).toBe(1);
  });

  it('Pipedrive: unknown stage, decimal minor units, log time that is no time, unknown currency, a flow of no deal', async () => {
    const deals = JSON.parse(readFileSync(fixture('pipedrive.deals.json'), 'utf8')) as {
      data: Record<string, unknown>[];
    };
    deals.data[1].value = 2000.001;
    deals.data[3].currency = 'ZZZ';
    const flow = JSON.parse(readFileSync(fixture('pipedrive.flow.json'), 'utf8')) as {
      data: { object: string; data: Record<string, unknown> }[];
    };
    const change = (id: number) => flow.data.find((item) => item.data.id === id)!.data;
    change(9002).new_value = '99';
    change(9008).log_time = '05/01/2025 00:00';
    flow.data.push({ object: 'dealChange', data: { ...change(9001), id: 9999, item_id: 99 } });
    const dealsText = JSON.stringify(deals, null, 2);
    const flowText = JSON.stringify(flow, null, 2);
    const files = [write('deals.json', dealsText), write('flow.json', flowText)];
    const report = await runHistoricImport(readVendorExport('pipedrive', files, fixture('pipedrive.stage-map.json')), {
      store,
      actorId: 'importer',
    });
    // a flow entry's line is its "data" object's; a deal's is where its object opens
    expect(refusals(report)).toEqual([
      ['flow.json', lineOf(flowText, '"id": 9002') - 1, '1', 'unknown-stage'],
      ['deals.json', lineOf(dealsText, '"id": 2,') - 1, '2', 'invalid-amount'],
      ['flow.json', lineOf(flowText, '"id": 9008') - 1, '3', 'invalid-record'],
      ['deals.json', lineOf(dealsText, '"id": 4,') - 1, '4', 'invalid-currency'],
      ['flow.json', lineOf(flowText, '"id": 9999') - 1, '99', 'deal-not-in-export'],
    ]);
    expect(report.deals).toEqual({ imported: 2, unchanged: 0, refused: 5 });
    for (const id of ['1', '2', '3', '4']) expect(await written('acme-pipedrive', id)).toBe(0);
    expect(await written('acme-pipedrive', '5')).toBe(1);
  });

  it('a file of the wrong format or an unusable stage map stops the run before anything is read as a deal', async () => {
    const before = (await store.readAll({ limit: 1000 })).events.length;
    const wrong = async (lines: AsyncIterable<SourcedLine>) => {
      const error = await collect(lines).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ImportFormatError);
      return (error as ImportFormatError).message;
    };
    expect(
      await wrong(
        readVendorExport('hubspot', [fixture('salesforce.Opportunity.csv')], fixture('hubspot.stage-map.json')),
      ),
    ).toMatch(/salesforce\.Opportunity\.csv:1: not JSON/);
    expect(
      await wrong(readVendorExport('pipedrive', [fixture('hubspot.deals.json')], fixture('pipedrive.stage-map.json'))),
    ).toMatch(/hubspot\.deals\.json:1: not a Pipedrive export/);
    expect(
      await wrong(readVendorExport('hubspot', [fixture('pipedrive.deals.json')], fixture('hubspot.stage-map.json'))),
    ).toMatch(/pipedrive\.deals\.json:1: not a HubSpot deals export/);
    const truncated = write('truncated.json', '{\n  "results": [\n    { "id": "1",\n');
    expect(await wrong(readVendorExport('hubspot', [truncated], fixture('hubspot.stage-map.json')))).toMatch(
      /truncated\.json:\d+: not JSON/,
    );
    const badMap = write(
      'bad-map.json',
      '{\n  "sourceSystem": "x",\n  "currency": "EUR",\n  "pipelines": [\n    { "sourceId": "p", "name": "P", "definedAt": "2025-01-01", "stages": [] }\n  ]\n}\n',
    );
    expect(await wrong(readVendorExport('pipedrive', [fixture('pipedrive.deals.json')], badMap))).toBe(
      `${badMap}:5: stage map: pipelines.0.definedAt: must be an ISO 8601 instant with a zone (when the pipeline took effect)`,
    );
    const unclosed = write(
      'unclosed.csv',
      readFileSync(fixture('salesforce.Opportunity.csv'), 'utf8') + '"0065g00000Opp07AAA","false\n',
    );
    expect(await wrong(readVendorExport('salesforce', [unclosed], fixture('salesforce.stage-map.json')))).toMatch(
      /unclosed\.csv:\d+: not readable as CSV: Quote Not Closed/,
    );
    expect((await store.readAll({ limit: 1000 })).events).toHaveLength(before);
  });
});
