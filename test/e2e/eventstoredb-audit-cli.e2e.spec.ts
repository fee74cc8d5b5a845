import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EsdbEventStore } from '@dealstream/event-store';
import { ScriptedEsdbServer } from '@dealstream/event-store/testing';
import { runAnchor } from '../../apps/cli/src/anchor.command.js';
import { runVerify } from '../../apps/cli/src/verify.command.js';

/**
 * `dealstream verify` and `dealstream anchor` on the EventStoreDB profile, against the scripted gRPC
 * server (not EventStoreDB: the CLI's path through the adapter is under test, not a real server).
 */
describe('verify and anchor CLI with EVENTSTORE_CONNECTION_STRING (scripted gRPC server)', () => {
  let server: ScriptedEsdbServer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await new ScriptedEsdbServer().start();
    env = { EVENTSTORE_CONNECTION_STRING: server.connectionString, EVENTSTORE_TIMEOUT_MS: '5000' };
    const store = new EsdbEventStore(server.connectionString);
    const metadata = { actorId: 'alice', occurredAt: new Date('2026-03-01T10:00:00.000Z') };
    await store.appendToStream(
      'deal-cli',
      [1, 2, 3].map((n) => ({ eventId: crypto.randomUUID(), type: 'DealNoted', data: { n }, metadata })),
      { expectedRevision: 'no_stream' },
    );
    await store.close();
  });
  afterAll(() => server.stop());

  async function cli(run: typeof runVerify, ...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await run(args, { env, print: (line) => lines.push(line) });
    return { code, lines };
  }

  it('verifies, anchors, and then fails on an edited event and against the anchor', async () => {
    const intact = await cli(runVerify);
    expect(intact).toEqual({
      code: 0,
      lines: [
        'verified every stream in EventStoreDB (EVENTSTORE_CONNECTION_STRING): 1 stream, 3 events checked',
        'OK: every hash chain is intact',
      ],
    });
    const out = join(mkdtempSync(join(tmpdir(), 'esdb-anchor-')), 'anchor.json');
    const anchored = await cli(runAnchor, '--out', out);
    expect(anchored.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ streams: 1, events: '3' });

    server.tamper('deal-cli', 1n, { data: { n: 20 } });
    const broken = await cli(runVerify, '--anchor', out);
    expect(broken.code).toBe(1);
    expect(broken.lines.some((line) => line.startsWith('BROKEN deal-cli at revision 1: hash-mismatch'))).toBe(true);
    expect(broken.lines.at(-1)).toBe('FAILED: 1 broken stream(s)');
  });

  it('fails (1) against the anchor when an anchored stream was hard-deleted (tombstoned), naming it missing', async () => {
    const own = await new ScriptedEsdbServer().start();
    try {
      const store = new EsdbEventStore(own.connectionString);
      const metadata = { actorId: 'alice', occurredAt: new Date('2026-03-01T10:00:00.000Z') };
      for (const streamId of ['deal-kept', 'deal-tombstoned'])
        await store.appendToStream(
          streamId,
          [{ eventId: crypto.randomUUID(), type: 'DealNoted', data: { n: 1 }, metadata }],
          { expectedRevision: 'no_stream' },
        );
      await store.close();
      const ownEnv = { EVENTSTORE_CONNECTION_STRING: own.connectionString, EVENTSTORE_TIMEOUT_MS: '5000' };
      const run = async (command: typeof runVerify, ...args: string[]) => {
        const lines: string[] = [];
        const code = await command(args, { env: ownEnv, print: (line) => lines.push(line) });
        return { code, lines };
      };
      const out = join(mkdtempSync(join(tmpdir(), 'esdb-anchor-')), 'anchor.json');
      expect((await run(runAnchor, '--out', out)).code).toBe(0);
      own.tombstone('deal-tombstoned');
      const checked = await run(runVerify, '--anchor', out);
      expect(checked.code).toBe(1);
      expect(checked.lines.filter((line) => line.startsWith('BROKEN'))).toEqual([
        expect.stringMatching(/^BROKEN deal-tombstoned .*stream-missing/),
      ]);
    } finally {
      await own.stop();
    }
  });

  it('answers 2 (unusable) when the server cannot be reached', async () => {
    const refused = await runVerify([], {
      env: { EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false' },
      print: () => undefined,
    });
    expect(refused).toBe(2);
  });
});
