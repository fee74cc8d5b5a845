import { randomUUID } from 'node:crypto';
import { fold } from '@dealstream/decider';
import { dealDecider, type DealEvent, type DealState } from '@dealstream/deals-domain';
import {
  DisqualifyDealCommand,
  LogActivityCommand,
  LoseDealCommand,
  MoveDealCommand,
  QualifyDealCommand,
  ReopenDealCommand,
  UpdateDealCommand,
  WinDealCommand,
} from '@dealstream/deals-application';
import { SqlEventStore, encodePosition, type RecordedEvent } from '@dealstream/event-store';
import type { CommandContext, WriteResult } from '@dealstream/command-handling';
import { startAuditApi, type AuditApiHarness } from '../support/audit-api-harness.js';

/*
 * Must-show 1: a deal with a long, varied life (> 1,000 events: forward and backward moves, value and
 * owner changes, activities, re-qualifications, losses and disqualifications each followed by a
 * reopen, a final win). The first ~150 events go through HTTP with three different actors, the rest
 * through the app's own command bus (the same handlers HTTP dispatches to) with a clock that ticks
 * 1 ms per event. At every 100th revision the test captures, right after that write and before any
 * later one, the state the write side has (its stream folded with the deal decider) and checks it
 * against its own hand-kept model; at the end it asks the audit routes for those states.
 */

const STAGE_COUNT = 7;
const HTTP_EVENTS = 150;
const LAST_LOOP_REVISION = 1049; // then a win: 1,051 events, revisions 0..1050
const ACTORS = ['sam-sales', 'sue-sales', 'olivia-ops'] as const;
const BANT = {
  budget: { confirmed: true },
  authority: { confirmed: true },
  need: { confirmed: true },
  timeline: { confirmed: false },
};

type Step =
  | { kind: 'move'; to: number }
  | { kind: 'activity'; activity: 'call' | 'email' | 'meeting' | 'social' | 'note' }
  | { kind: 'value'; amount: number }
  | { kind: 'owner'; ownerId: string }
  | { kind: 'qualify' }
  | { kind: 'lose' }
  | { kind: 'disqualify' }
  | { kind: 'reopen'; to?: number }
  | { kind: 'win' };

/** What the test itself expects the deal to be, updated by hand for each step it takes. */
interface Model {
  status: 'open' | 'lost' | 'disqualified' | 'won';
  stage: number;
  amount: number;
  ownerId: string;
  activityCount: number;
  reopenCount: number;
}

const KINDS = ['call', 'email', 'meeting', 'social', 'note'] as const;

/** The next step of the deal's life, from the step number and the model. Deterministic. */
function nextStep(i: number, m: Model): Step {
  if (m.status === 'lost' || m.status === 'disqualified') {
    // Activities go on after a loss (win-back calls); then the deal comes back.
    if (i % 2 === 0) return { kind: 'activity', activity: 'call' };
    return m.status === 'lost' ? { kind: 'reopen' } : { kind: 'reopen', to: 0 };
  }
  if (i % 97 === 50) return { kind: 'lose' };
  if (i % 211 === 100) return { kind: 'disqualify' };
  switch (i % 10) {
    case 0:
      return { kind: 'move', to: m.stage === STAGE_COUNT - 1 ? m.stage - 2 : m.stage + 1 };
    case 3:
      return { kind: 'move', to: m.stage === 0 ? 1 : m.stage - 1 };
    case 7:
      return { kind: 'move', to: m.stage + 2 < STAGE_COUNT ? m.stage + 2 : 0 };
    case 2:
      return { kind: 'value', amount: m.amount + 1000 * ((i % 7) + 1) };
    case 9:
      return { kind: 'value', amount: m.amount - 500 };
    case 5:
      return { kind: 'owner', ownerId: m.ownerId === 'sue-sales' ? 'sam-sales' : 'sue-sales' };
    case 8:
      return { kind: 'qualify' };
    default:
      return { kind: 'activity', activity: KINDS[i % KINDS.length] };
  }
}

function applyToModel(m: Model, step: Step): void {
  switch (step.kind) {
    case 'move':
      m.stage = step.to;
      break;
    case 'activity':
      m.activityCount++;
      break;
    case 'value':
      m.amount = step.amount;
      break;
    case 'owner':
      m.ownerId = step.ownerId;
      break;
    case 'lose':
      m.status = 'lost';
      break;
    case 'disqualify':
      m.status = 'disqualified';
      break;
    case 'reopen':
      m.status = 'open';
      m.reopenCount++;
      if (step.to !== undefined) m.stage = step.to;
      break;
    case 'win':
      m.status = 'won';
      break;
    case 'qualify':
      break;
  }
}

describe('a deal with 1,051 events: history, state at every 100th revision, diff (PostgreSQL)', () => {
  let api: AuditApiHarness;
  let observer: SqlEventStore;
  let auditor: string;
  const stages = Array.from({ length: STAGE_COUNT }, () => randomUUID());
  let dealId: string;
  let stored: RecordedEvent[];
  /** The write side's state right after revision r, for r = 0, 100, …, 1000 (and the last). */
  const captured = new Map<number, DealState>();
  const model: Model = {
    status: 'open',
    stage: 0,
    amount: 1_000_000,
    ownerId: 'sam-sales',
    activityCount: 0,
    reopenCount: 0,
  };
  let revision = 0;
  const counts = { moves: 0, backward: 0, lost: 0, disqualified: 0, reopened: 0, values: 0, activities: 0 };
  let windowStart = 0;

  const streamId = () => `deal-${dealId}`;
  const writeSideState = async () => fold(dealDecider, await observer.readStream<DealEvent>(streamId()));

  /** After a write: at every 100th revision, capture the write side's state and check it against the model. */
  async function afterWrite(newRevision: number): Promise<void> {
    expect(newRevision).toBe(revision + 1);
    revision = newRevision;
    if (revision % 100 !== 0) return;
    const state = await writeSideState();
    expect(state).toMatchObject({
      version: revision + 1,
      status: model.status,
      stageId: stages[model.stage],
      amount: model.amount,
      ownerId: model.ownerId,
      activityCount: model.activityCount,
      reopenCount: model.reopenCount,
    });
    captured.set(revision, state);
  }

  function count(step: Step): void {
    if (step.kind === 'move') {
      counts.moves++;
      if (step.to < model.stage) counts.backward++;
    }
    if (step.kind === 'lose') counts.lost++;
    if (step.kind === 'disqualify') counts.disqualified++;
    if (step.kind === 'reopen') counts.reopened++;
    if (step.kind === 'value') counts.values++;
    if (step.kind === 'activity') counts.activities++;
  }

  async function viaHttp(step: Step, actor: string): Promise<number> {
    const auth = { Authorization: `Bearer ${await api.token(['sales', 'ops'], actor)}` };
    const d = `/deals/${dealId}`;
    const request = {
      move: () =>
        api
          .http()
          .post(`${d}/stage`)
          .set(auth)
          .send({ toStageId: stages[(step as { to: number }).to] }),
      activity: () =>
        api
          .http()
          .post(`${d}/activities`)
          .set(auth)
          .send({ kind: (step as { activity: string }).activity, note: `step ${revision + 1}` }),
      value: () =>
        api
          .http()
          .patch(d)
          .set(auth)
          .send({ amount: (step as { amount: number }).amount }),
      owner: () =>
        api
          .http()
          .patch(d)
          .set(auth)
          .send({ ownerId: (step as { ownerId: string }).ownerId }),
      qualify: () => api.http().post(`${d}/qualify`).set(auth).send(BANT),
      lose: () => api.http().post(`${d}/lose`).set(auth).send({ reason: 'price', competitor: 'Globex' }),
      disqualify: () => api.http().post(`${d}/disqualify`).set(auth).send({ reason: 'no-budget' }),
      reopen: () =>
        api
          .http()
          .post(`${d}/reopen`)
          .set(auth)
          .send((step as { to?: number }).to === undefined ? {} : { toStageId: stages[(step as { to: number }).to] }),
      win: () => api.http().post(`${d}/win`).set(auth).send({ reason: 'best fit' }),
    }[step.kind];
    const response = await request();
    expect([step.kind, response.status]).toEqual([step.kind, step.kind === 'activity' ? 201 : 200]);
    return Number(response.body.revision);
  }

  /** The same use cases through the app's command bus, with a clock that ticks 1 ms per event. */
  async function viaCommandBus(step: Step, actor: string, now: Date): Promise<number> {
    const context: CommandContext = { actorId: actor, correlationId: `bulk-${revision + 1}`, now };
    const command = {
      move: () => new MoveDealCommand(dealId, stages[(step as { to: number }).to], context),
      activity: () =>
        new LogActivityCommand(
          dealId,
          { activityId: randomUUID(), kind: (step as { activity: 'call' }).activity },
          context,
        ),
      value: () => new UpdateDealCommand(dealId, { amount: (step as { amount: number }).amount }, context),
      owner: () => new UpdateDealCommand(dealId, { ownerId: (step as { ownerId: string }).ownerId }, context),
      qualify: () => new QualifyDealCommand(dealId, BANT, context),
      lose: () => new LoseDealCommand(dealId, { reason: 'price' }, context),
      disqualify: () => new DisqualifyDealCommand(dealId, { reason: 'no-budget' }, context),
      reopen: () =>
        new ReopenDealCommand(
          dealId,
          (step as { to?: number }).to === undefined ? undefined : stages[(step as { to: number }).to],
          context,
        ),
      win: () => new WinDealCommand(dealId, {}, context),
    }[step.kind]();
    const result: WriteResult = await api.commands().execute(command);
    return Number(result.revision);
  }

  beforeAll(async () => {
    api = await startAuditApi({ projectionsInProcess: false });
    observer = new SqlEventStore(api.database.db);
    auditor = `Bearer ${await api.token(['auditor'], 'ada-auditor')}`;
    const ops = `Bearer ${await api.token(['ops'], 'olivia-ops')}`;
    const { body: pipeline } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'Enterprise',
        currency: 'EUR',
        stages: stages.map((stageId, i) => ({ stageId, name: `Stage ${i}`, probability: 10 * (i + 1) })),
      })
      .expect(201);
    const sam = `Bearer ${await api.token(['sales'], 'sam-sales')}`;
    const created = await api
      .http()
      .post('/deals')
      .set('Authorization', sam)
      .send({ pipelineId: pipeline.id, title: 'ACME', account: 'ACME Corp', amount: 1_000_000, currency: 'EUR' })
      .expect(201);
    dealId = created.body.id;
    captured.set(0, await writeSideState());

    // A scripted window for the diff, with three actors: r1 move to S1, r2 email; then window from version 3:
    // r3 olivia → S3, r4+r5 sue PATCH amount+owner, r6 sam call, r7 olivia back → S1, r8 sue amount.
    await afterWrite(await viaHttp({ kind: 'move', to: 1 }, 'sam-sales'));
    await afterWrite(await viaHttp({ kind: 'activity', activity: 'email' }, 'sam-sales'));
    windowStart = revision + 1;
    await afterWrite(await viaHttp({ kind: 'move', to: 3 }, 'olivia-ops'));
    const patch = await api
      .http()
      .patch(`/deals/${dealId}`)
      .set('Authorization', `Bearer ${await api.token(['sales'], 'sue-sales')}`)
      .send({ amount: 1_000_001, ownerId: 'sue-sales' })
      .expect(200);
    expect(patch.body.events).toEqual(['DealValueChanged', 'DealOwnerReassigned']);
    revision += 2;
    await afterWrite(await viaHttp({ kind: 'activity', activity: 'call' }, 'sam-sales'));
    await afterWrite(await viaHttp({ kind: 'move', to: 1 }, 'olivia-ops'));
    await afterWrite(await viaHttp({ kind: 'value', amount: 1_000_002 }, 'sue-sales'));
    Object.assign(model, { stage: 1, amount: 1_000_002, ownerId: 'sue-sales', activityCount: 2 });

    // The long life: HTTP first, then the command bus, every write one event.
    // The command-bus clock starts when HTTP stops, so business time never runs backwards.
    let clock = 0;
    for (let i = 0; revision < LAST_LOOP_REVISION; i++) {
      const step = nextStep(i, model);
      count(step);
      const actor = ACTORS[i % ACTORS.length];
      if (revision >= HTTP_EVENTS) clock = Math.max(clock + 1, clock === 0 ? Date.now() : 0);
      const written =
        revision < HTTP_EVENTS ? await viaHttp(step, actor) : await viaCommandBus(step, actor, new Date(clock));
      applyToModel(model, step);
      await afterWrite(written);
    }
    if (model.status !== 'open') {
      await afterWrite(
        await viaCommandBus(
          { kind: 'reopen', ...(model.status === 'disqualified' ? { to: 0 } : {}) },
          'sam-sales',
          new Date(++clock),
        ),
      );
      applyToModel(model, { kind: 'reopen' });
    }
    await afterWrite(await viaCommandBus({ kind: 'win' }, 'sue-sales', new Date(clock + 1)));
    applyToModel(model, { kind: 'win' });
    captured.set(revision, await writeSideState());
    stored = await observer.readStream(streamId());
  });
  afterAll(() => api.close());

  it('had a long, varied life', () => {
    expect(stored.length).toBeGreaterThanOrEqual(1000);
    expect(stored.length).toBe(revision + 1);
    expect([...captured.keys()].sort((a, b) => a - b)).toEqual([
      0,
      100,
      200,
      300,
      400,
      500,
      600,
      700,
      800,
      900,
      1000,
      revision,
    ]);
    expect(counts.backward).toBeGreaterThan(50);
    expect(counts.lost).toBeGreaterThanOrEqual(5);
    expect(counts.disqualified).toBeGreaterThanOrEqual(2);
    expect(counts.reopened).toBe(counts.lost + counts.disqualified);
    expect(counts.values).toBeGreaterThan(100);
    expect(counts.activities).toBeGreaterThan(200);
    expect(stored.at(-1)!.type).toBe('DealWon');
    expect(new Set(stored.map((e) => e.metadata.actorId))).toEqual(new Set(ACTORS));
  });

  it('returns every event in revision order across pages, for several page sizes', async () => {
    for (const limit of [100, 333, 1000]) {
      const events: any[] = [];
      let after: string | null | undefined;
      let pages = 0;
      do {
        const query = after === undefined ? `?limit=${limit}` : `?limit=${limit}&after=${after}`;
        const { body } = await api
          .http()
          .get(`/deals/${dealId}/history${query}`)
          .set('Authorization', auditor)
          .expect(200);
        expect(body.events.length).toBeLessThanOrEqual(limit);
        events.push(...body.events);
        after = body.next;
        pages++;
      } while (after !== null);
      expect([limit, pages]).toEqual([limit, Math.ceil(stored.length / limit)]);
      expect(events.map((e) => e.revision)).toEqual(stored.map((_, i) => String(i)));
      expect(events).toEqual(
        stored.map((e) => ({
          eventId: e.eventId,
          streamId: e.streamId,
          revision: String(e.revision),
          position: encodePosition(e.position),
          type: e.type,
          data: e.data,
          actorId: e.metadata.actorId,
          commandId: e.metadata.commandId ?? null,
          correlationId: e.metadata.correlationId ?? null,
          causationId: e.metadata.causationId ?? null,
          occurredAt: e.metadata.occurredAt.toISOString(),
          recordedAt: e.recordedAt.toISOString(),
          hash: e.hash,
          previousHash: e.previousHash,
          provenance: e.metadata.provenance ?? null,
        })),
      );
    }
    // The default page is 100 events.
    const { body } = await api.http().get(`/deals/${dealId}/history`).set('Authorization', auditor).expect(200);
    expect([body.events.length, body.next]).toEqual([100, '99']);
  });

  it('gives, for every 100th revision, exactly the state the write side had right after it', async () => {
    for (const [r, state] of captured) {
      const { body } = await api
        .http()
        .get(`/deals/${dealId}/state?version=${r + 1}`)
        .set('Authorization', auditor)
        .expect(200);
      expect([r, body.version, body.revision, body.occurredAt, body.recordedAt]).toEqual([
        r,
        r + 1,
        String(r),
        stored[r].metadata.occurredAt.toISOString(),
        stored[r].recordedAt.toISOString(),
      ]);
      expect(body.state).toEqual(state);
    }
  });

  it('gives the same states asOf their business time (1 ms ticks, so the next event is later)', async () => {
    const bulk = [...captured.keys()].filter((r) => r > HTTP_EVENTS && r < revision);
    expect(bulk.length).toBeGreaterThanOrEqual(8);
    for (const r of bulk) {
      const at = stored[r].metadata.occurredAt;
      expect(stored[r + 1].metadata.occurredAt.getTime()).toBe(at.getTime() + 1);
      const { body } = await api
        .http()
        .get(`/deals/${dealId}/state?asOf=${at.toISOString()}`)
        .set('Authorization', auditor)
        .expect(200);
      expect([r, body.version, body.axis, body.excludedBackdatedEvents]).toEqual([r, r + 1, 'occurred', 0]);
      expect(body.state).toEqual(captured.get(r));
    }
  });

  it('asOf recorded time folds the run of events recorded by then', async () => {
    for (const [r, state] of captured) {
      const at = stored[r].recordedAt;
      // Events recorded in the same millisecond as r belong to the same instant.
      let expectedVersion = r + 1;
      while (expectedVersion < stored.length && stored[expectedVersion].recordedAt.getTime() <= at.getTime())
        expectedVersion++;
      const { body } = await api
        .http()
        .get(`/deals/${dealId}/state?asOf=${at.toISOString()}&axis=recorded`)
        .set('Authorization', auditor)
        .expect(200);
      expect([r, body.version, body.axis]).toEqual([r, expectedVersion, 'recorded']);
      if (expectedVersion === r + 1) expect(body.state).toEqual(state);
    }
  });

  it('diffs the scripted window into exactly the fields that changed, with who and when', async () => {
    const from = windowStart; // state after r2: stage S1 (from S0), amount 1,000,000, owner sam, 1 activity (email)
    const { body } = await api
      .http()
      .get(`/deals/${dealId}/diff?from=${from}&to=${from + 6}`)
      .set('Authorization', auditor)
      .expect(200);
    const by = (offset: number) => ({
      revision: String(from + offset),
      type: stored[from + offset].type,
      actorId: stored[from + offset].metadata.actorId,
      occurredAt: stored[from + offset].metadata.occurredAt.toISOString(),
    });
    expect(body).toMatchObject({ fromVersion: from, toVersion: from + 6, eventCount: 6, identities: 'visible' });
    // stageId went S1 → S3 → S1: not a change. Amount changed twice; previousStageId twice.
    expect(
      body.changes.map((c: any) => ({
        field: c.field,
        before: c.before,
        after: c.after,
        changeCount: c.changeCount,
        setBy: {
          revision: c.setBy.revision,
          type: c.setBy.type,
          actorId: c.setBy.actorId,
          occurredAt: c.setBy.occurredAt,
        },
      })),
    ).toEqual([
      { field: 'previousStageId', before: stages[0], after: stages[3], changeCount: 2, setBy: by(4) },
      { field: 'amount', before: 1_000_000, after: 1_000_002, changeCount: 2, setBy: by(5) },
      { field: 'ownerId', before: 'sam-sales', after: 'sue-sales', changeCount: 1, setBy: by(2) },
      { field: 'activityCount', before: 1, after: 2, changeCount: 1, setBy: by(3) },
      {
        field: 'lastActivity.activityId',
        before: (stored[from - 1].data as { activityId: string }).activityId,
        after: (stored[from + 3].data as { activityId: string }).activityId,
        changeCount: 1,
        setBy: by(3),
      },
      { field: 'lastActivity.kind', before: 'email', after: 'call', changeCount: 1, setBy: by(3) },
    ]);
    expect([by(2).actorId, by(3).actorId, by(4).actorId, by(5).actorId]).toEqual([
      'sue-sales',
      'sam-sales',
      'olivia-ops',
      'sue-sales',
    ]);
  });

  it('diffs consecutive 100th revisions into changes that turn one captured state into the next', async () => {
    const points = [...captured.keys()].sort((a, b) => a - b);
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1], points[i]];
      const { body } = await api
        .http()
        .get(`/deals/${dealId}/diff?from=${a + 1}&to=${b + 1}`)
        .set('Authorization', auditor)
        .expect(200);
      const { version: _va, ...start } = captured.get(a)!;
      const { version: _vb, ...end } = captured.get(b)!;
      const rebuilt = structuredClone(start) as Record<string, unknown>;
      for (const change of body.changes) {
        expect(change.before).not.toEqual(change.after);
        expect(pathValue(start, change.field) ?? null).toEqual(change.before);
        setPath(rebuilt, change.field, change.after);
        const setter = stored[Number(change.setBy.revision)];
        expect(Number(change.setBy.revision)).toBeGreaterThanOrEqual(a + 1);
        expect(Number(change.setBy.revision)).toBeLessThanOrEqual(b);
        expect([change.setBy.type, change.setBy.actorId]).toEqual([setter.type, setter.metadata.actorId]);
      }
      expect(rebuilt).toEqual(end);
    }
  });

  it('verifies the whole chain of the long deal', async () => {
    const { body } = await api
      .http()
      .get(`/audit/verify?stream=${streamId()}`)
      .set('Authorization', auditor)
      .expect(200);
    expect(body).toEqual({
      scope: 'stream',
      streamId: streamId(),
      ok: true,
      streamsChecked: 1,
      eventsChecked: stored.length,
      brokenStreams: 0,
      breaks: [],
    });
  });
});

function pathValue(object: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined),
      object,
    );
}

function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = object;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[keys.at(-1)!] = value;
}
