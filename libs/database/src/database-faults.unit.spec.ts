import { databaseConfigFromEnv } from './database.js';
import { databaseFaultOf } from './database-faults.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('databaseFaultOf', () => {
  it.each([
    ['statement_timeout', pgError('57014', 'canceling statement due to statement timeout'), 'timeout'],
    ['lock_timeout', pgError('55P03', 'canceling statement due to lock timeout'), 'timeout'],
    ['pool acquire bound', new Error('timeout exceeded when trying to connect'), 'timeout'],
    [
      'admin shutdown (pg_ctl -m fast, pg_terminate_backend)',
      pgError('57P01', 'terminating connection due to administrator command'),
      'unavailable',
    ],
    ['crash shutdown', pgError('57P02'), 'unavailable'],
    ['starting up', pgError('57P03', 'the database system is starting up'), 'unavailable'],
    ['too many connections', pgError('53300'), 'unavailable'],
    ['connection failure', pgError('08006'), 'unavailable'],
    ['ECONNREFUSED', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'unavailable'],
    ['ECONNRESET', pgError('ECONNRESET', 'read ECONNRESET'), 'unavailable'],
    ['pg: terminated', new Error('Connection terminated unexpectedly'), 'unavailable'],
    ['pg: connect timeout', new Error('Connection terminated due to connection timeout'), 'unavailable'],
    ['pg: dead client', new Error('Client has encountered a connection error and is not queryable'), 'unavailable'],
    [
      'AggregateError of refusals',
      Object.assign(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], ''), {}),
      'unavailable',
    ],
    ['wrapped in a cause', new Error('outer', { cause: pgError('57P01') }), 'unavailable'],
  ])('%s → %s', (_name, error, fault) => {
    expect(databaseFaultOf(error)).toBe(fault);
  });

  it.each([
    ['unique violation', pgError('23505')],
    ['syntax error', pgError('42601')],
    ['wrong password (fail fast, do not wait)', pgError('28P01')],
    ['no such database', pgError('3D000')],
    ['a plain bug', new TypeError('undefined is not a function')],
    ['not an error', 'nope'],
  ])('%s is not a fault', (_name, error) => {
    expect(databaseFaultOf(error)).toBeUndefined();
  });
});

describe('databaseConfigFromEnv', () => {
  it('fills in the documented defaults and reads overrides', () => {
    expect(databaseConfigFromEnv({ DATABASE_URL: 'postgres://x' })).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://x',
      poolSize: 20,
      timeouts: {
        statementTimeoutMs: 5000,
        lockTimeoutMs: 2000,
        connectTimeoutMs: 3000,
        idleInTransactionTimeoutMs: 60_000,
      },
    });
    const config = databaseConfigFromEnv({
      DATABASE_URL: 'postgres://x',
      DB_STATEMENT_TIMEOUT_MS: '0',
      DB_LOCK_TIMEOUT_MS: '250',
      DB_POOL_SIZE: '5',
    });
    expect(config).toMatchObject({ poolSize: 5, timeouts: { statementTimeoutMs: 0, lockTimeoutMs: 250 } });
  });

  it('refuses a bound that is not a whole number of milliseconds', () => {
    expect(() => databaseConfigFromEnv({ DATABASE_URL: 'postgres://x', DB_LOCK_TIMEOUT_MS: '2s' })).toThrow(
      'DB_LOCK_TIMEOUT_MS',
    );
  });
});
