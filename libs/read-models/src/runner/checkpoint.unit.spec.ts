import { PostgresDialect, Kysely } from 'kysely';
import { beginBatchSql, isStreamsParkedError } from './checkpoint.js';

/** The one-message batch start: values inlined (simple protocol takes no parameters), identifiers quoted. */
describe('beginBatchSql', () => {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: {} as never }) });
  const compiled = (schema: string, applied = 3) =>
    beginBatchSql(schema, { major: 10n, minor: 4n }, { major: 12n, minor: 7n }, applied).compile(db);

  it('begins, takes the swap lock shared and moves the checkpoint by compare-and-set, with no parameters', () => {
    const { sql, parameters } = compiled('read_models');
    expect(parameters).toEqual([]);
    expect(sql).toMatch(
      /^begin; select pg_advisory_xact_lock_shared\(hashtext\('dealstream\.read-models\.swap'\)\); do \$batch\$/,
    );
    expect(sql).toContain(
      `update "read_models".checkpoints set position_major = 12, position_minor = 7, events_applied = events_applied + 3, updated_at = now() ` +
        `where projection = 'read-models' and position_major = 10 and position_minor = 4;`,
    );
    expect(sql).toContain(
      `if not found then raise exception 'checkpoint moved under this runner: another runner is active'; end if;`,
    );
  });

  it('believing no stream parked, checks that belief after the compare-and-set (and only then)', () => {
    const check = `if exists (select 1 from "read_models".parked_streams) then raise exception 'streams are parked: the batch looks its streams up'; end if; end $batch$`;
    expect(compiled('read_models').sql).not.toContain('parked_streams');
    const { sql } = beginBatchSql('read_models', { major: 10n, minor: 4n }, { major: 12n, minor: 7n }, 3, {
      noneParked: true,
    }).compile(db);
    expect(sql.endsWith(check)).toBe(true);
    expect(sql.indexOf('update "read_models".checkpoints')).toBeLessThan(sql.indexOf('parked_streams'));
    expect(isStreamsParkedError(new Error('streams are parked: the batch looks its streams up'))).toBe(true);
    expect(isStreamsParkedError(new Error('checkpoint moved under this runner: another runner is active'))).toBe(false);
  });

  it('quotes the schema as an identifier and refuses a checkpoint that would not move forward or a bad count', () => {
    expect(compiled('odd"name').sql).toContain(`update "odd""name".checkpoints`);
    expect(() => beginBatchSql('s', { major: 2n, minor: 0n }, { major: 1n, minor: 9n }, 1)).toThrow(
      'checkpoint must move forward',
    );
    expect(() => compiled('s', -1)).toThrow('not a count of events');
    expect(() => compiled('s', 1.5)).toThrow('not a count of events');
  });
});
