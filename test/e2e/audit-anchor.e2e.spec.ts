import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { chainAnchorToJson, createChainAnchor, parseChainAnchor } from '@dealstream/audit';
import { hashEvent } from '@dealstream/event-store';
import { runAnchor } from '../../apps/cli/src/anchor.command.js';
import { runVerify } from '../../apps/cli/src/verify.command.js';
import { startAuditApi, type AuditApiHarness } from '../support/audit-api-harness.js';
import { writeFourDeals, type FourDeals } from '../support/audit-fixtures.js';

/*
 * The hash chain alone cannot see a stream rewritten and re-hashed consistently, truncated with its
 * head moved back, or deleted whole (docs/audit.md). An anchor taken earlier and kept elsewhere can:
 * each case below verifies clean without it and is reported, at the anchored revision, with it.
 */
describe('chain anchors catch what the chain alone cannot (PostgreSQL)', () => {
  let api: AuditApiHarness;
  let auditor: string;
  let ops: string;
  let pipelineStream: string;
  let dir: string;
  let deals: FourDeals;
  const stream = (key: keyof typeof deals) => `deal-${deals[key]}`;

  const cli = async (run: typeof runVerify, ...args: string[]) => {
    const lines: string[] = [];
    const code = await run(args, { env: { DATABASE_URL: api.url }, print: (line) => lines.push(line) });
    return { code, lines };
  };
  const brokenLines = (lines: string[]) =>
    lines
      .filter((line) => line.startsWith('BROKEN'))
      .map((line) => line.split(' — ')[0])
      .sort();

  /** What someone with write access to the tables could do: re-hash a whole stream and move its head to its last event. */
  const rehash = async (streamId: string) => {
    const events = await api.streamEvents(streamId);
    let previous: string | null = null;
    for (const e of events) {
      const hash = hashEvent(
        {
          streamId,
          revision: e.revision,
          eventId: e.eventId,
          type: e.type,
          data: e.data,
          actorId: e.metadata.actorId,
          commandId: e.metadata.commandId ?? null,
          correlationId: e.metadata.correlationId ?? null,
          causationId: e.metadata.causationId ?? null,
          occurredAt: e.metadata.occurredAt,
          recordedAt: e.recordedAt,
        },
        previous,
      );
      await sql`update event_store.events set previous_hash = ${previous}, hash = ${hash} where stream_id = ${streamId} and stream_revision = ${e.revision.toString()}::bigint`.execute(
        api.database.db,
      );
      previous = hash;
    }
    await sql`update event_store.streams set last_hash = ${previous}, revision = ${(events.length - 1).toString()}::bigint where stream_id = ${streamId}`.execute(
      api.database.db,
    );
  };

  beforeAll(async () => {
    api = await startAuditApi({ projectionsInProcess: false });
    dir = await mkdtemp(join(tmpdir(), 'dealstream-anchor-'));
    auditor = `Bearer ${await api.token(['auditor'], 'ada-auditor')}`;
    ops = `Bearer ${await api.token(['ops'], 'olivia-ops')}`;
    ({ pipelineStream, deals } = await writeFourDeals(api, ops));
  });
  afterAll(() => api.close());

  it('GET /audit/anchor answers every stream head with a digest anyone can recompute, and the CLI writes the same', async () => {
    const { body } = await api.http().get('/audit/anchor').set('Authorization', auditor).expect(200);
    const expectedHeads = await Promise.all(
      [pipelineStream, stream('a'), stream('b'), stream('c'), stream('d')].sort().map(async (id) => {
        const last = (await api.streamEvents(id)).at(-1)!;
        return [id, last.revision.toString(), last.hash!];
      }),
    );
    expect(body).toEqual({
      format: 'dealstream.chain-anchor.v1',
      takenAt: expect.any(String),
      streams: 5,
      events: '21',
      // for ASCII ids, RFC 8785 of an array of string triples is plain JSON.stringify
      digest: createHash('sha256').update(JSON.stringify(expectedHeads)).digest('hex'),
      heads: expectedHeads,
    });

    const file = join(dir, 'anchor.json');
    const { code, lines } = await cli(runAnchor, '--out', file);
    expect(code).toBe(0);
    expect(lines).toEqual([
      `anchored 5 streams, 21 events in PostgreSQL (DATABASE_URL) to ${file}`,
      expect.stringMatching(new RegExp(`^digest ${body.digest} \\(taken .+\\): publish it where`)),
    ]);
    const written = JSON.parse(await readFile(file, 'utf8'));
    expect([written.digest, written.heads]).toEqual([body.digest, body.heads]);
    // Signed with a key the database's writers do not hold, an anchor can be kept anywhere: someone who
    // edits its heads and recomputes the digest still cannot produce the signature.
    const keys = generateKeyPairSync('ed25519');
    const [privatePem, publicPem, otherPublicPem] = ['signing.pem', 'public.pem', 'other.pem'].map((name) =>
      join(dir, name),
    );
    await writeFile(privatePem, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(publicPem, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(otherPublicPem, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const signed = join(dir, 'signed.json');
    const signing = await cli(runAnchor, '--out', signed, '--sign-key', privatePem);
    expect([signing.code, signing.lines[1]]).toEqual([
      0,
      expect.stringMatching(/, signed with ed25519: check it with verify --anchor-public-key$/),
    ]);
    const checked = await cli(runVerify, '--anchor', signed, '--anchor-public-key', publicPem);
    expect(checked.code).toBe(0);
    expect(checked.lines[0]).toBe(`anchor ${body.digest}: ed25519 signature verified with ${publicPem}`);
    const original = parseChainAnchor(await readFile(signed, 'utf8'));
    const forged = join(dir, 'forged.json');
    const reDigested = createChainAnchor(original.heads.slice(1), new Date(original.takenAt));
    await writeFile(forged, JSON.stringify(chainAnchorToJson({ ...reDigested, signature: original.signature! })));
    expect((await cli(runVerify, '--anchor', forged)).code).toBe(0); // the digest alone cannot tell
    expect(await cli(runVerify, '--anchor', forged, '--anchor-public-key', publicPem)).toEqual({
      code: 2,
      lines: [`error: cannot use the anchor ${forged}: its signature does not verify with ${publicPem}`],
    });
    expect((await cli(runVerify, '--anchor', signed, '--anchor-public-key', otherPublicPem)).code).toBe(2);
    expect(await cli(runVerify, '--anchor', file, '--anchor-public-key', publicPem)).toEqual({
      code: 2,
      lines: [`error: cannot use the anchor ${file}: it is not signed`],
    });
    expect((await cli(runAnchor, '--sign-key', publicPem)).lines).toEqual([
      expect.stringMatching(new RegExp(`^error: cannot sign with ${publicPem}: `)),
    ]);

    // an anchor is never overwritten
    expect(await cli(runAnchor, '--out', file)).toEqual({
      code: 2,
      lines: [`error: ${file} exists; an anchor is never overwritten`],
    });
  });

  it('is for auditors, takes no parameters, and answers problem+json otherwise', async () => {
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const forbidden = await api.http().get('/audit/anchor').set('Authorization', sales).expect(403);
    expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    const unknown = await api.http().get('/audit/anchor?stream=x').set('Authorization', auditor).expect(400);
    expect(unknown.body).toMatchObject({
      code: 'invalid-query',
      detail: 'GET /audit/anchor takes no query parameters (got stream)',
    });
    await api.http().get('/audit/anchor').expect(401);
  });

  it('holds while streams grow, and reports rewritten, truncated and deleted streams that verify clean on their own', async () => {
    const file = join(dir, 'anchor.json');
    // growth after the anchor is fine: an anchor certifies a prefix of each stream
    await api
      .http()
      .post(`/deals/${deals.a}/activities`)
      .set('Authorization', ops)
      .send({ kind: 'meeting' })
      .expect(201);
    const clean = await cli(runVerify, '--anchor', file);
    expect(clean.code).toBe(0);
    expect(clean.lines.at(-1)).toBe('OK: every hash chain is intact and holds every anchored head');

    // a: change revision 2 and re-hash everything after it; b: drop revisions 3-4 and move the head
    // back; c: delete the whole stream with its row. Each is consistent, so the chain check passes.
    await sql`update event_store.events set data = jsonb_set(data, '{kind}', '"meeting"') where stream_id = ${stream('a')} and stream_revision = 2`.execute(
      api.database.db,
    );
    await rehash(stream('a'));
    await sql`delete from event_store.events where stream_id = ${stream('b')} and stream_revision >= 3`.execute(
      api.database.db,
    );
    await rehash(stream('b'));
    await sql`delete from event_store.events where stream_id = ${stream('c')}`.execute(api.database.db);
    // The stream guard refuses deleting a stream row: a tamperer needs the tables' owner to disable it.
    await sql`alter table event_store.streams disable trigger streams_guard_delete`.execute(api.database.db);
    await sql`delete from event_store.streams where stream_id = ${stream('c')}`.execute(api.database.db);
    await sql`alter table event_store.streams enable trigger streams_guard_delete`.execute(api.database.db);
    const chainOnly = await cli(runVerify);
    expect([chainOnly.code, chainOnly.lines.at(-1)]).toEqual([0, 'OK: every hash chain is intact']);

    const anchored = await cli(runVerify, '--anchor', file);
    expect(anchored.code).toBe(1);
    expect(brokenLines(anchored.lines)).toEqual(
      [
        `BROKEN ${stream('a')} at revision 4: anchor hash-differs`,
        `BROKEN ${stream('b')} at revision 4: anchor revision-missing`,
        `BROKEN ${stream('c')} at revision 4: anchor stream-missing`,
      ].sort(),
    );
    expect(anchored.lines.at(-1)).toBe('FAILED: 3 stream(s) differ from the anchor');
    expect(anchored.lines.some((line) => line.includes(stream('d')) || line.includes(pipelineStream))).toBe(false);

    const json = await cli(runVerify, '--anchor', file, '--json');
    expect(JSON.parse(json.lines[0])).toMatchObject({
      ok: false,
      brokenStreams: 0,
      anchor: { ok: false, streamsChecked: 5, brokenStreams: 3 },
    });
    const one = await cli(runVerify, '--stream', stream('d'), '--anchor', file);
    expect([one.code, one.lines.at(-1)]).toEqual([0, 'OK: every hash chain is intact and holds every anchored head']);
  });

  it('refuses an anchor file edited after it was written, and will not anchor a broken store', async () => {
    const file = join(dir, 'anchor.json');
    const anchor = JSON.parse(await readFile(file, 'utf8'));
    anchor.heads[0][2] = 'f'.repeat(64);
    const edited = join(dir, 'edited.json');
    await writeFile(edited, JSON.stringify(anchor));
    const refused = await cli(runVerify, '--anchor', edited);
    expect(refused.code).toBe(2);
    expect(refused.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: cannot use the anchor ${edited}: the heads hash to [0-9a-f]{64}, not to the recorded digest ${anchor.digest}: the anchor was altered$`,
        ),
      ),
    ]);
    expect((await cli(runVerify, '--anchor', join(dir, 'missing.json'))).code).toBe(2);

    await sql`update event_store.events set data = jsonb_set(data, '{kind}', '"visit"') where stream_id = ${stream('d')} and stream_revision = 2`.execute(
      api.database.db,
    );
    const problem = await api.http().get('/audit/anchor').set('Authorization', auditor).expect(409);
    expect(problem.body).toMatchObject({ code: 'hash-chain-broken', status: 409 });
    const cliRefusal = await cli(runAnchor);
    expect(cliRefusal.code).toBe(1);
    expect(cliRefusal.lines.at(-1)).toBe('refusing to anchor a store whose hash chains are broken');
  });
});
