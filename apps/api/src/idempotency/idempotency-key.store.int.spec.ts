import { sql } from 'kysely';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import type { RequestFingerprint } from './idempotency-key.js';
import { IdempotencyKeyStore, migrateApiSchema } from './idempotency-key.store.js';

const LONG = 60_000;

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
])('IdempotencyKeyStore on %s', (_, open) => {
  let database: TestDatabase;
  let store: IdempotencyKeyStore;
  let n = 0;
  const fp = (overrides: Partial<RequestFingerprint> = {}): RequestFingerprint => ({
    actorId: 'sam',
    key: `key-${n}`,
    method: 'POST',
    route: '/deals/:id/lose',
    target: '/deals/1/lose',
    bodySha256: 'a'.repeat(64),
    ...overrides,
  });
  const response = { status: 200, headers: { ETag: '"3"' }, body: { id: '1', revision: '3', events: ['DealLost'] } };

  beforeAll(async () => {
    database = await open();
    await migrateApiSchema(database.db);
    await migrateApiSchema(database.db); // twice: a restart migrates again
    store = new IdempotencyKeyStore(database.db);
  });
  afterAll(() => database.drop());
  beforeEach(() => void n++);

  it('owns a new key, replays the completed answer, and refuses any other request with it', async () => {
    const claim = await store.claim(fp(), LONG);
    expect(claim.kind).toBe('owned');
    expect(await store.claim(fp(), LONG)).toEqual({ kind: 'in-flight' });
    expect(await store.complete(fp(), (claim as { leaseToken: string }).leaseToken, response)).toBe(true);
    expect(await store.claim(fp(), LONG)).toEqual({ kind: 'completed', response });
    for (const other of [
      { bodySha256: 'b'.repeat(64) },
      { target: '/deals/2/lose' },
      { method: 'PATCH' },
      { route: '/deals/:id/win', target: '/deals/1/win' },
    ]) {
      expect(await store.claim(fp(other), LONG)).toEqual({
        kind: 'mismatch',
        first: { method: 'POST', target: '/deals/1/lose' },
      });
    }
    expect((await store.claim(fp({ actorId: 'sue' }), LONG)).kind).toBe('owned');
  });

  it('lets an identical request take over a key whose lease expired (a crashed request), and only one taker', async () => {
    const crashed = await store.claim(fp(), 0);
    const takers = await Promise.all([store.claim(fp(), LONG), store.claim(fp(), LONG), store.claim(fp(), LONG)]);
    expect(takers.filter((c) => c.kind === 'owned')).toHaveLength(1);
    expect(takers.filter((c) => c.kind === 'in-flight')).toHaveLength(2);
    // the crashed holder, if it comes back, can no longer complete
    expect(await store.complete(fp(), (crashed as { leaseToken: string }).leaseToken, response)).toBe(false);
  });

  it('release frees the key for any request; abandon keeps it bound but immediately takeable', async () => {
    const first = (await store.claim(fp(), LONG)) as { leaseToken: string };
    await store.release(fp(), first.leaseToken);
    const next = (await store.claim(fp({ bodySha256: 'c'.repeat(64) }), LONG)) as { kind: string; leaseToken: string };
    expect(next.kind).toBe('owned');
    await store.abandon(fp({ bodySha256: 'c'.repeat(64) }), next.leaseToken);
    expect((await store.claim(fp(), LONG)).kind).toBe('mismatch');
    expect((await store.claim(fp({ bodySha256: 'c'.repeat(64) }), LONG)).kind).toBe('owned');
  });

  it('purges keys older than the retention whose request is not running', async () => {
    const done = (await store.claim(fp({ key: `done-${n}` }), LONG)) as { leaseToken: string };
    await store.complete(fp({ key: `done-${n}` }), done.leaseToken, response);
    await store.claim(fp({ key: `running-${n}` }), LONG);
    await store.claim(fp({ key: `crashed-${n}` }), 0);
    await sql`update api.idempotency_keys set created_at = now() - interval '25 hours'`.execute(database.db);
    await store.claim(fp({ key: `fresh-${n}` }), 0);
    expect(await store.purge(24 * 3_600_000)).toBeGreaterThanOrEqual(2);
    const { rows } = await sql<{
      idempotency_key: string;
    }>`select idempotency_key from api.idempotency_keys where idempotency_key like ${`%-${n}`} order by 1`.execute(
      database.db,
    );
    expect(rows.map((r) => r.idempotency_key)).toEqual([`fresh-${n}`, `running-${n}`]);
  });
});

describe('migrateApiSchema', () => {
  it('is safe when several API processes start at once (PostgreSQL)', async () => {
    const database = await createPostgresTestDatabase({ poolSize: 8 });
    try {
      await Promise.all(Array.from({ length: 4 }, () => migrateApiSchema(database.db)));
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from api.idempotency_keys`.execute(
        database.db,
      );
      expect(rows[0].n).toBe('0');
    } finally {
      await database.drop();
    }
  });
});
