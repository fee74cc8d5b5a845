import { Logger, type LoggerService } from '@nestjs/common';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { ApiProblem } from '../problem/api-problem.js';
import type { RequestFingerprint } from './idempotency-key.js';
import { IdempotencyKeyStore, migrateApiSchema, type Claim } from './idempotency-key.store.js';
import { IdempotentWrites } from './idempotency.interceptor.js';

/**
 * The key's life when the database fails around a request, over real PostgreSQL. The one fault
 * injected is what a restart does between a statement's commit and its answer: the row is written,
 * the caller gets an error.
 */
class AnswerLostStore extends IdempotencyKeyStore {
  loseNextClaimAnswer = false;
  failNextComplete = false;
  override async complete(...args: Parameters<IdempotencyKeyStore['complete']>): Promise<boolean> {
    if (!this.failNextComplete) return super.complete(...args);
    this.failNextComplete = false;
    throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  }
  override async claim(fp: RequestFingerprint, leaseMs: number, leaseToken?: string): Promise<Claim> {
    const claim = await super.claim(fp, leaseMs, leaseToken);
    if (!this.loseNextClaimAnswer) return claim;
    this.loseNextClaimAnswer = false;
    throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  }
}

describe('IdempotentWrites over PostgreSQL, when the database fails mid-request', () => {
  let database: TestDatabase;
  let store: AnswerLostStore;
  let writes: IdempotentWrites;
  let n = 0;
  const requestWith = (key: string, bodySha256 = 'b'.repeat(64)) => {
    const fingerprint: RequestFingerprint = {
      actorId: 'sam',
      key,
      method: 'POST',
      route: '/deals',
      target: '/deals',
      bodySha256,
    };
    return { method: 'POST', id: `corr-${key}`, idempotency: { fingerprint, hash: 'h' } } as unknown as HttpRequest;
  };
  const reply = {
    getHeader: () => undefined,
    status: () => reply,
    header: () => reply,
  } as unknown as HttpReply;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateApiSchema(database.db);
    store = new AnswerLostStore(database.db);
    // A one-minute lease (the crash bound) and a one-second wait for a request in flight.
    writes = new IdempotentWrites(store, { leaseMs: 60_000, waitMs: 1000, retentionMs: 86_400_000 });
  });
  afterAll(() => database.drop());

  it("ends the lease of a claim written whose answer was lost, so the client's retry runs", async () => {
    const key = `lost-claim-${++n}`;
    let executed = 0;
    store.loseNextClaimAnswer = true;
    await expect(writes.run(requestWith(key), reply, 201, async () => ++executed)).rejects.toThrow(
      /administrator command/,
    );
    expect(executed).toBe(0);

    // As after any 5xx, the key stays bound to its first request: another body with it is refused.
    await expect(
      writes.run(requestWith(key, 'c'.repeat(64)), reply, 201, async () => ++executed),
    ).rejects.toMatchObject({ status: 422, code: 'idempotency-key-reused' });
    // The retry, as the client sends it after the 503: it must run, not wait on a lease nothing holds
    // and answer 409 idempotency-key-in-flight for the next minute.
    const retried = await writes.run(requestWith(key), reply, 201, async () => {
      executed++;
      return { id: 'd1' };
    });
    expect(retried).toEqual({ id: 'd1' });
    expect(executed).toBe(1);
  });

  it('still answers 409 idempotency-key-in-flight while the identical request really is running', async () => {
    const key = `running-${++n}`;
    let finish!: () => void;
    const first = writes.run(
      requestWith(key),
      reply,
      201,
      () => new Promise((resolve) => (finish = () => resolve({ id: 'd2' }))),
    );
    const second = writes.run(requestWith(key), reply, 201, async () => ({ id: 'other' }));
    const refused = await second.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiProblem);
    expect(refused).toMatchObject({ status: 409, code: 'idempotency-key-in-flight' });
    finish();
    expect(await first).toEqual({ id: 'd2' });
  });

  it('answers the body when its recording failed, and the warning names the request by its correlation id', async () => {
    const key = `unrecorded-${++n}`;
    const warnings: unknown[][] = [];
    const quiet = () => undefined;
    const capture: LoggerService = { log: quiet, error: quiet, warn: (...args: unknown[]) => void warnings.push(args) };
    Logger.overrideLogger(capture);
    try {
      store.failNextComplete = true;
      expect(await writes.run(requestWith(key), reply, 201, async () => ({ id: 'd3' }))).toEqual({ id: 'd3' });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(warnings).toEqual([
      [
        { correlationId: `corr-${key}` },
        `could not record the answer of Idempotency-Key ${key}: Error: terminating connection due to administrator command`,
        'Idempotency',
      ],
      [
        { correlationId: `corr-${key}` },
        `Idempotency-Key ${key} of sam lost its lease before completing`,
        'Idempotency',
      ],
    ]);
  });
});
