import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { NewEvent, SqlEventStoreOptions } from '@dealstream/event-store';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { mintToken } from '@dealstream/auth';
import { TEST_JWT_SECRET, startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { OpenApiValidator } from '../support/openapi-validator.js';

/*
 * GET /events/stream over a real socket (node:http, not supertest): a consumer that disconnects at
 * random 20 times while 5,000 appends commit concurrently — out of order, with the store's fault
 * hooks pausing inside the transactions — receives every event exactly once, in the order GET /events
 * pages them. Plus filters, heartbeats, the per-token bound, Last-Event-ID errors and the contract.
 */

const WRITES = 5000;
const WRITERS = 16;
const DISCONNECTS = 20;

interface Received {
  id: string;
  eventId: string;
  streamId: string;
  type: string;
}

interface OpenStream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Resolves when the stream ends (server or client side). */
  readonly ended: Promise<void>;
  /** Comment lines seen (heartbeats). */
  readonly comments: string[];
  close(): void;
}

/** Opens a stream; `onEvent` returns false to disconnect right after that event. */
function openStream(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  onEvent: (event: Received) => boolean | void = () => true,
): Promise<OpenStream & { body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${baseUrl}${path}`, { headers: { Accept: 'text/event-stream', ...headers } });
    request.on('error', (error) => {
      if (!settled) reject(error);
    });
    let settled = false;
    request.on('response', (response) => {
      settled = true;
      const comments: string[] = [];
      let buffer = '';
      let body = '';
      let id = '';
      let data = '';
      let closed = false;
      const close = () => {
        closed = true;
        request.destroy();
      };
      const ended = new Promise<void>((done) => {
        response.on('close', done);
        response.on('end', done);
        request.on('close', done);
      });
      response.setEncoding('utf8');
      const result = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        ended,
        comments,
        close,
        get body() {
          return body;
        },
      };
      response.on('data', (chunk: string) => {
        body += chunk;
        if (response.statusCode !== 200 || closed) return;
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0 && !closed) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data) {
              const view = JSON.parse(data) as { eventId: string; streamId: string; type: string; position: string };
              expect(view.position).toBe(id); // id: is the event's feed cursor
              if (onEvent({ id, eventId: view.eventId, streamId: view.streamId, type: view.type }) === false) close();
            }
            data = '';
          } else if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
      });
      resolve(result);
    });
  });
}

describe('GET /events/stream (PostgreSQL, real sockets)', () => {
  let api: ApiHarness;
  let baseUrl: string;
  let ops: string;
  const validator = new OpenApiValidator(fileURLToPath(new URL('../../docs/openapi.json', import.meta.url)));

  beforeAll(async () => {
    api = await startApiOnPostgres({
      projectionsInProcess: false,
      eventStream: { maxPerToken: 3, heartbeatMs: 150, pollMs: 250, maxLifetimeMs: 600_000 },
    });
    baseUrl = await api.baseUrl();
    ops = `Bearer ${await api.token(['ops'], 'stream-consumer')}`;
  });
  afterAll(() => api.close());

  async function feed(query = ''): Promise<Received[]> {
    const all: Received[] = [];
    let after = '';
    for (;;) {
      const { body } = await api.http().get(`/events?limit=1000${after}${query}`).set('Authorization', ops).expect(200);
      const page = body as { events: (Received & { position: string })[]; next: string };
      all.push(...page.events.map((e) => ({ id: e.position, eventId: e.eventId, streamId: e.streamId, type: e.type })));
      if (page.events.length === 0) return all;
      after = `&after=${page.next}`;
    }
  }

  function event(i: number): NewEvent {
    return {
      eventId: randomUUID(),
      type: i % 3 === 0 ? 'NoteAdded' : 'Touched',
      data: { i },
      metadata: { actorId: `writer-${i % WRITERS}`, occurredAt: new Date() },
    };
  }

  it(`delivers every event exactly once, in feed order, to a consumer that disconnects ${DISCONNECTS} times during ${WRITES} concurrent appends`, async () => {
    const store = api.appEventStore();
    const hooks = (store as unknown as { options: SqlEventStoreOptions }).options;
    const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 4));
    Object.assign(hooks, { afterStreamLock: pause, beforeCommit: pause });

    let written = 0;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      // Half the writers share a few streams (contention), half write their own.
      const own = [`deal-${randomUUID()}`, `pipeline-${randomUUID()}`];
      while (written < WRITES) {
        const i = written++;
        const streamId = w % 2 === 0 ? `deal-shared${i % 4}` : own[i % 2];
        for (;;) {
          try {
            await store.appendToStream(streamId, [event(i)], { expectedRevision: 'any' });
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== 'timeout') throw error;
          }
        }
      }
    });
    const writing = Promise.all(writers).then(() =>
      Object.assign(hooks, { afterStreamLock: undefined, beforeCommit: undefined }),
    );

    const received: Received[] = [];
    let lastId: string | undefined;
    let disconnects = 0;
    let connections = 0;
    let writesDone = false;
    let disconnectedDuringWrites = false;
    void writing.then(() => (writesDone = true));
    // Reconnect until every disconnect is spent and the stream holds everything written.
    for (;;) {
      connections++;
      const budget = 1 + Math.floor(Math.random() * 400);
      let thisConnection = 0;
      const useHeader = connections % 2 === 0;
      const path = `/events/stream${!useHeader && lastId ? `?after=${lastId}` : ''}`;
      const headers: Record<string, string> = {
        Authorization: ops,
        ...(useHeader && lastId ? { 'Last-Event-ID': lastId } : {}),
      };
      const stream = await openStream(baseUrl, path, headers, (e) => {
        received.push(e);
        lastId = e.id;
        thisConnection++;
        return !(disconnects < DISCONNECTS && thisConnection >= budget);
      });
      expect(stream.status).toBe(200);
      expect(
        validator.check({
          method: 'GET',
          url: path,
          status: 200,
          contentType: stream.headers['content-type'],
          body: 'x',
        }),
      ).toEqual([]);
      if (disconnects < DISCONNECTS) {
        // Also cut some connections by time, mid-batch, whatever arrived.
        const timer = setTimeout(stream.close, Math.random() * 300);
        await stream.ended;
        clearTimeout(timer);
        disconnects++;
        if (disconnects === DISCONNECTS) disconnectedDuringWrites = !writesDone;
        continue;
      }
      await writing;
      const total = await api.eventCount();
      for (const deadline = Date.now() + 30_000; received.length < total && Date.now() < deadline;)
        await new Promise((resolve) => setTimeout(resolve, 50));
      stream.close();
      await stream.ended;
      break;
    }
    expect(writesDone).toBe(true);
    expect(disconnects).toBe(DISCONNECTS);
    expect(disconnectedDuringWrites).toBe(true); // every disconnect happened while appends were committing

    const expected = await feed();
    expect(expected).toHaveLength(WRITES);
    expect(new Set(received.map((e) => e.eventId)).size).toBe(received.length); // no duplicate
    expect(received.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId)); // nothing missing, same order
    expect(received.map((e) => e.id)).toEqual(expected.map((e) => e.id));
  }, 240_000);

  it('filters by type and category as GET /events does, and ends after limit events', async () => {
    const byCategory = (await feed('&category=pipeline')).slice(0, 50);
    const byType = (await feed('&type=NoteAdded&category=deal')).slice(0, 50);
    expect(byCategory.length).toBe(50);
    expect(byType.length).toBe(50);
    for (const [query, expected] of [
      ['category=pipeline', byCategory],
      ['type=NoteAdded&category=deal', byType],
    ] as const) {
      const got: Received[] = [];
      const stream = await openStream(baseUrl, `/events/stream?limit=50&${query}`, { Authorization: ops }, (e) => {
        got.push(e);
      });
      await stream.ended; // the server ends it after 50 events
      expect(got.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
    }
  });

  it('sends heartbeat comments while idle, and each id resumes exactly after its event', async () => {
    const all = await feed();
    const from = all.at(-3)!.id;
    const got: Received[] = [];
    const stream = await openStream(baseUrl, '/events/stream', { Authorization: ops, 'Last-Event-ID': from }, (e) => {
      got.push(e);
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    stream.close();
    await stream.ended;
    expect(got.map((e) => e.eventId)).toEqual(all.slice(-2).map((e) => e.eventId));
    expect(stream.comments.filter((c) => c === ': heartbeat').length).toBeGreaterThanOrEqual(2);
    expect(stream.body.startsWith('retry: 2000\n')).toBe(true);
  });

  it('wakes on a new append (NOTIFY or poll) and delivers it live', async () => {
    const got: Received[] = [];
    const last = (await feed()).at(-1)!.id;
    const stream = await openStream(baseUrl, `/events/stream?after=${last}`, { Authorization: ops }, (e) => {
      got.push(e);
    });
    const appended = event(1);
    await api.appEventStore().appendToStream(`deal-${randomUUID()}`, [appended], { expectedRevision: 'no_stream' });
    for (const deadline = Date.now() + 5000; got.length === 0 && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));
    stream.close();
    await stream.ended;
    expect(got.map((e) => e.eventId)).toEqual([appended.eventId]);
  });

  it('bounds the open streams per token (429 problem+json beyond), frees a slot on close, and other tokens are not affected', async () => {
    const held = await Promise.all([1, 2, 3].map(() => openStream(baseUrl, '/events/stream', { Authorization: ops })));
    expect(held.map((s) => s.status)).toEqual([200, 200, 200]);
    const refused = await api.http().get('/events/stream').set('Authorization', ops).expect(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toMatchObject({ code: 'too-many-streams', status: 429 });
    expect(refused.body.detail).toContain('holds 3 open event streams');
    const other = await openStream(baseUrl, '/events/stream', {
      Authorization: `Bearer ${await api.token(['auditor'], 'other-consumer')}`,
    });
    expect(other.status).toBe(200);
    other.close();
    held[0].close();
    await held[0].ended;
    let status = 0;
    for (const deadline = Date.now() + 3000; status !== 200 && Date.now() < deadline;) {
      const again = await openStream(baseUrl, '/events/stream?limit=1', { Authorization: ops });
      status = again.status;
      await again.ended;
    }
    expect(status).toBe(200);
    for (const stream of held) stream.close();
  });

  it('refuses a malformed Last-Event-ID or after (400), a role without events:read (403), no token (401)', async () => {
    const bad = await api
      .http()
      .get('/events/stream')
      .set('Authorization', ops)
      .set('Last-Event-ID', 'nope')
      .expect(400);
    expect(bad.body.code).toBe('invalid-last-event-id');
    expect((await api.http().get('/events/stream?after=zz').set('Authorization', ops).expect(400)).body.code).toBe(
      'validation-failed',
    );
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    expect((await api.http().get('/events/stream').set('Authorization', sales).expect(403)).body.code).toBe(
      'forbidden',
    );
    expect((await api.http().get('/events/stream').expect(401)).body.code).toBe('unauthorized');
  });

  it('ends a stream when its token expires', async () => {
    const shortLived = await mintToken({
      subject: 'short-lived',
      roles: ['auditor'],
      secret: TEST_JWT_SECRET,
      expiresIn: '2s',
    });
    const opened = Date.now();
    const stream = await openStream(baseUrl, `/events/stream?after=${(await feed()).at(-1)!.id}`, {
      Authorization: `Bearer ${shortLived}`,
    });
    expect(stream.status).toBe(200);
    const ended = await Promise.race([
      stream.ended.then(() => 'ended'),
      new Promise((r) => setTimeout(r, 6000, 'open')),
    ]);
    expect(ended).toBe('ended');
    expect(Date.now() - opened).toBeLessThan(4000);
    stream.close();
  });

  it('answers HEAD with the headers and no stream', async () => {
    const head = await api.http().head('/events/stream').set('Authorization', ops).expect(200);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
  });
});

describe('GET /events/stream with the default configuration', () => {
  it('reads its bounds from the environment', () => {
    expect(appConfigFromEnv({}).eventStream).toEqual({
      maxPerToken: 5,
      heartbeatMs: 15_000,
      pollMs: 1_000,
      maxLifetimeMs: 3_600_000,
    });
    expect(() => appConfigFromEnv({ EVENTS_STREAM_MAX_PER_TOKEN: '0' })).toThrow(/EVENTS_STREAM_MAX_PER_TOKEN/);
  });
});
