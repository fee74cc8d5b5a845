import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { projectCommitted, readModelRows } from '../../libs/import/src/testing/project-store.js';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { countStoredEvents } from '../support/read-all-written.js';

const CLI = 'dist/apps/cli/src/main.js';
const DEALS = 1500;
const STAGES = ['S1', 'S2', 'S3', 'S4', 'S5'];

/** A canonical export of DEALS deals, each created, moved 1–4 stages, and (for most) won or lost. */
function writeExport(path: string): number {
  const lines: object[] = [
    { type: 'header', format: 'dealstream-canonical', version: 1, sourceSystem: 'crash-crm' },
    {
      type: 'pipeline',
      sourceId: 'P',
      sourceRecordId: 'P',
      at: '2024-01-01T00:00:00Z',
      actor: 'admin',
      name: 'Crash',
      currency: 'EUR',
      stages: STAGES.map((s, i) => ({ sourceId: s, name: s, probability: 10 + i * 20 })),
    },
  ];
  let events = 1;
  for (let n = 0; n < DEALS; n++) {
    const at = (day: number) => new Date(Date.UTC(2024, 0, 2) + (n % 300) * 86_400_000 + day * 3_600_000).toISOString();
    lines.push({
      type: 'deal',
      sourceId: `D${n}`,
      sourceRecordId: `D${n}`,
      at: at(0),
      actor: `rep${n % 7}`,
      pipeline: 'P',
      stage: 'S1',
      title: `Deal ${n}`,
      account: `Account ${n % 50}`,
      amount: 1000 * (1 + (n % 40)),
      currency: 'EUR',
      owner: `rep${n % 7}`,
    });
    events++;
    const moves = 1 + (n % 4);
    for (let m = 1; m <= moves; m++) {
      lines.push({
        type: 'deal-change',
        deal: `D${n}`,
        change: 'stage',
        sourceRecordId: `D${n}-m${m}`,
        at: at(m),
        actor: 'rep',
        stage: STAGES[m],
      });
      events++;
    }
    if (n % 3 !== 2) {
      lines.push(
        n % 3 === 0
          ? { type: 'deal-change', deal: `D${n}`, change: 'won', sourceRecordId: `D${n}-w`, at: at(9), actor: 'rep' }
          : {
              type: 'deal-change',
              deal: `D${n}`,
              change: 'lost',
              sourceRecordId: `D${n}-l`,
              at: at(9),
              actor: 'rep',
              reason: 'price',
            },
      );
      events++;
    }
  }
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  return events;
}

/**
 * The same history as a Salesforce export (Opportunity + OpportunityHistory CSV, stage map): per
 * opportunity a creation row, 1–4 moves and (for most) Closed Won or Closed Lost — as many events.
 */
function writeSalesforceExport(dir: string): { args: string[]; total: number } {
  const csv = (fields: string[]) => fields.map((field) => `"${field}"`).join(',');
  const opportunities = [
    csv(['Id', 'Name', 'AccountId', 'OwnerId', 'CreatedById', 'CreatedDate', 'StageName', 'Amount', 'CloseDate']),
  ];
  const history = [csv(['Id', 'OpportunityId', 'CreatedById', 'CreatedDate', 'StageName', 'Amount', 'CloseDate'])];
  let total = 1;
  for (let n = 0; n < DEALS; n++) {
    const at = (day: number) =>
      new Date(Date.UTC(2024, 0, 2) + (n % 300) * 86_400_000 + day * 3_600_000).toISOString().replace('Z', '+0000');
    const id = `006C${String(n).padStart(14, '0')}`;
    const amount = `${10 * (1 + (n % 40))}.00`;
    opportunities.push(
      csv([id, `Deal ${n}`, `Account ${n % 50}`, `rep${n % 7}`, `rep${n % 7}`, at(0), 'S1', amount, '2024-12-31']),
    );
    const row = (k: number, day: number, stage: string) =>
      history.push(
        csv([
          `008C${String(n).padStart(10, '0')}${String(k).padStart(4, '0')}`,
          id,
          'rep',
          at(day),
          stage,
          amount,
          '2024-12-31',
        ]),
      );
    row(0, 0, 'S1');
    const moves = 1 + (n % 4);
    for (let m = 1; m <= moves; m++) row(m, m, STAGES[m]);
    if (n % 3 !== 2) row(9, 9, n % 3 === 0 ? 'Closed Won' : 'Closed Lost');
    total += 1 + moves + (n % 3 !== 2 ? 1 : 0);
  }
  const stageMap = {
    sourceSystem: 'crash-salesforce',
    currency: 'EUR',
    pipelines: [
      {
        sourceId: 'P',
        name: 'Crash',
        definedAt: '2024-01-01T00:00:00Z',
        stages: [
          ...STAGES.map((s, i) => ({ source: s, stage: s, probability: 10 + i * 20 })),
          { source: 'Closed Won', isClosed: true, isWon: true },
          { source: 'Closed Lost', isClosed: true, isWon: false },
        ],
      },
    ],
  };
  const files = ['Opportunity.csv', 'OpportunityHistory.csv', 'stage-map.json'].map((name) => join(dir, name));
  writeFileSync(files[0], opportunities.join('\n') + '\n');
  writeFileSync(files[1], history.join('\n') + '\n');
  writeFileSync(files[2], JSON.stringify(stageMap));
  return { args: ['--format', 'salesforce', '--stage-map', files[2], files[0], files[1]], total };
}

/** Every CLI process started here: one still running when a test failed is killed after it. */
const children: ChildProcess[] = [];

function runCli(url: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, 'import', ...args, '--json'], {
    // Small batches: on the SQL store a batch is one transaction (about 5,000 events by default, most of
    // this file), so the kill has many commits to land between.
    env: { ...process.env, DATABASE_URL: url, IMPORT_BATCH_EVENTS: '250' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stdout: () => stdout };
}

/** The canonical export of DEALS deals, as CLI arguments and its event count. */
export function canonicalExport(dir: string): { args: string[]; total: number } {
  const file = join(dir, 'export.ndjson');
  return { args: ['--format', 'canonical', file], total: writeExport(file) };
}

export { writeSalesforceExport as salesforceExport };

/*
 * An import killed with SIGKILL half-way completes when run again, and ends exactly where a clean
 * import of the same file ends: the same events in every stream and equal read models (every table
 * of PARITY_TABLES, all but the recorded-axis columns). Needs the built CLI (`npm run build`).
 *
 * One spec file per format (import-crash.<format>.int.spec.ts), so that jest's two workers run them
 * side by side; the clean reference import runs beside the crashed one (it shares nothing with it).
 */
export function describeImportCrash(format: string, write: (dir: string) => { args: string[]; total: number }): void {
  describe(`import crash safety of a ${format} export (real process, SIGKILL)`, () => {
    let crashed: TestDatabase;
    let clean: TestDatabase;
    let file: string[];
    let total: number;

    beforeAll(async () => {
      ({ args: file, total } = write(mkdtempSync(join(tmpdir(), 'import-crash-'))));
      crashed = await createPostgresTestDatabase({ poolSize: 4 });
      clean = await createPostgresTestDatabase({ poolSize: 4 });
      for (const database of [crashed, clean]) await migrateEventStore(database.db);
    });
    afterAll(async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await crashed?.drop();
      await clean?.drop();
    });

    const eventCount = (database: TestDatabase) => countStoredEvents(database.db);

    it('killed mid-import, run again: complete, nothing twice, read models equal to a clean import', async () => {
      const reference = runCli(clean.url!, file);
      const first = runCli(crashed.url!, file);
      let seen = 0;
      for (let waited = 0; seen < total / 4 && waited < 120_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen = await eventCount(crashed);
      }
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      // The killed process's statements still running on the server finish (and commit) without it: an
      // import writes several appends at once, so count only once its backends are done.
      for (let waited = 0; waited < 30_000; waited += 50) {
        // Raw: a system view outside the typed schema.
        const { rows } = await sql<{ active: string }>`select count(*)::text as active from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`.execute(crashed.db);
        const active = rows[0].active;
        if (Number(active) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const atKill = await eventCount(crashed);
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(total); // it really was half-way

      // Whole deals or nothing: every deal stream written holds all of its events.
      const store = new SqlEventStore(crashed.db);
      const perStream = await crashed.db
        .selectFrom('event_store.streams')
        .select(['stream_id', (eb) => eb.cast<string>('revision', 'text').as('revision')])
        .where('stream_id', 'like', 'deal-%')
        .execute();
      for (const { stream_id, revision } of perStream) {
        const [created] = await store.readStream(stream_id, { maxCount: 1 });
        const n = Number((created.data as { title: string }).title.slice('Deal '.length));
        expect([n, Number(revision) + 1]).toEqual([n, 2 + (n % 4) + (n % 3 !== 2 ? 1 : 0)]);
      }

      const second = runCli(crashed.url!, file);
      expect((await second.exited).code).toBe(0);
      const report = JSON.parse(second.stdout()) as { events: { appended: number }; deals: { refused: number } };
      expect(report.deals.refused).toBe(0);
      expect(report.events.appended).toBe(total - atKill);
      expect(await eventCount(crashed)).toBe(total);

      expect((await reference.exited).code).toBe(0);
      expect(await eventCount(clean)).toBe(total);

      // The same events (ids, types, data, business time) in every stream …
      const cleanStore = new SqlEventStore(clean.db);
      for (const { stream_id } of perStream.slice(0, 50)) {
        const shape = (events: Awaited<ReturnType<typeof store.readStream>>) =>
          events.map((e) => [e.eventId, e.revision, e.type, e.data, e.metadata.occurredAt.toISOString()]);
        expect(shape(await store.readStream(stream_id))).toEqual(shape(await cleanStore.readStream(stream_id)));
      }
      // … and every read-model table equal.
      expect(await projectCommitted(crashed.db, store, 'rm')).toBe(total);
      expect(await projectCommitted(clean.db, cleanStore, 'rm')).toBe(total);
      const [a, b] = [await readModelRows(crashed.db, 'rm'), await readModelRows(clean.db, 'rm')];
      expect(Object.fromEntries(Object.entries(a).map(([t, rows]) => [t, rows.length]))).toEqual(
        Object.fromEntries(Object.entries(b).map(([t, rows]) => [t, rows.length])),
      );
      // `deals.import_id` names the run that created each deal: a crashed import and its rerun are two
      // runs, a clean import one. Every deal has one; the rest of every row is equal.
      const runs = (rows: Record<string, unknown>[]) => new Set(rows.map((row) => row.import_id));
      expect(runs(a.deals).has(null)).toBe(false);
      expect(runs(b.deals).size).toBe(1);
      const withoutRun = (tables: typeof a) => ({
        ...tables,
        deals: tables.deals.map(({ import_id: _run, ...row }) => row),
      });
      expect(withoutRun(a)).toEqual(withoutRun(b));
    }, 300_000);
  });
}
