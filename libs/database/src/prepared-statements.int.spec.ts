import { CompiledQuery, sql } from 'kysely';
import { createPostgresTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { preparedNameOf, preparedOnServer } from './prepared-statements.js';

/*
 * A registered statement goes to PostgreSQL as a named prepared statement on the pool's connections
 * (one connection here, so `pg_prepared_statements` — per session — shows what it holds); an
 * unregistered one stays unnamed; both answer the same rows.
 */
describe('preparedOnServer (PostgreSQL pool)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 1 });
  });
  afterAll(() => database.drop());

  const prepared = async () =>
    (
      await sql<{
        name: string;
        statement: string;
      }>`select name, statement from pg_prepared_statements order by name`.execute(database.db)
    ).rows;

  it('sends a registered text as a named statement, prepared once per connection, with the same answers', async () => {
    const text = `select $1::int + g as n, $2::text as t from generate_series(1, 3) g /* prepared-statements spec */`;
    const plain = CompiledQuery.raw(text, [10, 'a']);
    // Unregistered: unnamed, nothing kept on the server.
    const before = (await database.db.executeQuery(plain)).rows;
    expect(before).toEqual([
      { n: 11, t: 'a' },
      { n: 12, t: 'a' },
      { n: 13, t: 'a' },
    ]);
    expect(await prepared()).toEqual([]);
    expect(preparedNameOf(text)).toBeUndefined();

    const registered = preparedOnServer(CompiledQuery.raw(text, [10, 'a']));
    expect(registered.sql).toBe(text);
    const name = preparedNameOf(text)!;
    expect(name).toMatch(/^ds_[0-9a-f]{32}$/);
    for (let i = 0; i < 8; i++) {
      // More calls than PostgreSQL's five custom plans, new values each time.
      const rows = (await database.db.executeQuery({ ...registered, parameters: [i, `v${i}`] })).rows;
      expect(rows).toEqual([1, 2, 3].map((g) => ({ n: i + g, t: `v${i}` })));
    }
    expect(await prepared()).toEqual([{ name, statement: text }]);
    // Registering again changes nothing.
    preparedOnServer(CompiledQuery.raw(text, []));
    expect(preparedNameOf(text)).toBe(name);
  });

  it('answers an error of a named statement as the unnamed one does, and runs it again afterwards', async () => {
    const text = `select 1 / $1::int as q /* prepared-statements spec, errors */`;
    const registered = preparedOnServer(CompiledQuery.raw(text, [1]));
    await expect(database.db.executeQuery({ ...registered, parameters: [0] })).rejects.toThrow('division by zero');
    expect((await database.db.executeQuery({ ...registered, parameters: [2] })).rows).toEqual([{ q: 0 }]);
    expect((await database.db.executeQuery(registered)).rows).toEqual([{ q: 1 }]);
  });
});
