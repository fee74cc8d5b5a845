import { event, projectionSpec } from '../../../../test/support/projection-spec.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';

/*
 * The deal projection, events in → rows out, every expected row computed by hand. A pipeline with
 * stages A (10 %), B (50 %), C (90 %); one deal created in A on 1 January, moved to B on 3 January,
 * won on 10 January with a booked amount of 1,200.
 */
const P = '00000000-0000-4000-8000-00000000000a';
const A = '00000000-0000-4000-8000-0000000000a1';
const B = '00000000-0000-4000-8000-0000000000a2';
const C = '00000000-0000-4000-8000-0000000000a3';
const D = '00000000-0000-4000-8000-0000000000d1';
const DAY1 = '2025-01-01T09:00:00+00:00';
const DAY3 = '2025-01-03T09:00:00+00:00';
const DAY10 = '2025-01-10T09:00:00+00:00';

const pipelineDefined = event(
  `pipeline-${P}`,
  'PipelineDefined',
  {
    pipelineId: P,
    name: 'Sales',
    currency: 'EUR',
    stages: [
      { stageId: A, name: 'A', probability: 10 },
      { stageId: B, name: 'B', probability: 50 },
      { stageId: C, name: 'C', probability: 90 },
    ],
  },
  '2024-12-01T00:00:00Z',
);
const created = event(
  `deal-${D}`,
  'DealCreated',
  {
    dealId: D,
    pipelineId: P,
    stageId: A,
    title: 'Acme renewal',
    account: 'Acme',
    amount: 1000,
    currency: 'EUR',
    ownerId: 'owner-1',
    kind: 'new',
    expectedCloseDate: '2025-03-31',
  },
  DAY1,
);
const moved = event(`deal-${D}`, 'StageAdvanced', { fromStageId: A, toStageId: B }, DAY3);
const won = event(`deal-${D}`, 'DealWon', { amount: 1200 }, DAY10);

const versionOf = {
  deal_id: D,
  pipeline_id: P,
  owner_id: 'owner-1',
  currency: 'EUR',
  expected_close_date: '2025-03-31',
  created_at: DAY1,
};

describe('deal projection: given / when / then (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 2 });
  });
  afterAll(() => database.drop());
  const spec = projectionSpec(() => database.db);

  it('create → move → win: three versions, two intervals (moved, won), two transitions, two first entries, no open totals', async () => {
    await spec
      .given(pipelineDefined, created)
      .when(moved, won)
      .then({
        deal_versions: [
          {
            ...versionOf,
            revision: 0,
            valid_from: DAY1,
            valid_to: DAY3,
            recorded_from: DAY1,
            recorded_to: DAY3,
            stage_id: A,
            status: 'open',
            amount: 1000,
            stage_entered_at: DAY1,
          },
          {
            ...versionOf,
            revision: 1,
            valid_from: DAY3,
            valid_to: DAY10,
            recorded_from: DAY3,
            recorded_to: DAY10,
            stage_id: B,
            status: 'open',
            amount: 1000,
            stage_entered_at: DAY3,
          },
          {
            ...versionOf,
            revision: 2,
            valid_from: DAY10,
            valid_to: 'infinity',
            recorded_from: DAY10,
            recorded_to: 'infinity',
            stage_id: B,
            status: 'won',
            amount: 1200,
            stage_entered_at: DAY3,
          },
        ],
        stage_intervals: [
          {
            deal_id: D,
            entered_revision: 0,
            pipeline_id: P,
            stage_id: A,
            entered_at: DAY1,
            exited_at: DAY3,
            entered_recorded_at: DAY1,
            exited_recorded_at: DAY3,
            exit_kind: 'moved',
            exit_reason: null,
          },
          {
            deal_id: D,
            entered_revision: 1,
            pipeline_id: P,
            stage_id: B,
            entered_at: DAY3,
            exited_at: DAY10,
            entered_recorded_at: DAY3,
            exited_recorded_at: DAY10,
            exit_kind: 'won',
            exit_reason: null,
          },
        ],
        stage_transitions: [
          {
            deal_id: D,
            revision: 0,
            pipeline_id: P,
            from_stage_id: null,
            to_stage_id: A,
            kind: 'created',
            at: DAY1,
            recorded_at: DAY1,
            deal_kind: 'new',
          },
          {
            deal_id: D,
            revision: 1,
            pipeline_id: P,
            from_stage_id: A,
            to_stage_id: B,
            kind: 'moved',
            at: DAY3,
            recorded_at: DAY3,
            deal_kind: 'new',
          },
        ],
        stage_first_entries: [
          {
            deal_id: D,
            stage_id: A,
            pipeline_id: P,
            first_at: DAY1,
            first_recorded_at: DAY1,
            created_at: DAY1,
            created_recorded_at: DAY1,
            // one visit, DAY1 → DAY3 (2 days), closed by the move
            visits_ms: 2 * 86_400_000,
            visits_recorded_ms: 2 * 86_400_000,
            open_since: null,
            open_since_recorded: null,
            settled_at: DAY3,
            settled_recorded_at: DAY3,
            // first entries A then B: in board order on both axes (the funnel's strict)
            in_order: true,
            in_order_recorded: true,
            kind: 'new',
          },
          {
            deal_id: D,
            stage_id: B,
            pipeline_id: P,
            first_at: DAY3,
            first_recorded_at: DAY3,
            created_at: DAY1,
            created_recorded_at: DAY1,
            // one visit, DAY3 → DAY10 (7 days), closed by the win
            visits_ms: 7 * 86_400_000,
            visits_recorded_ms: 7 * 86_400_000,
            open_since: null,
            open_since_recorded: null,
            settled_at: DAY10,
            settled_recorded_at: DAY10,
            // first entries A then B: in board order on both axes (the funnel's strict)
            in_order: true,
            in_order_recorded: true,
            kind: 'new',
          },
        ],
        stage_totals: [],
        stage_entry_days: [],
        deals: [
          {
            deal_id: D,
            pipeline_id: P,
            stage_id: B,
            status: 'won',
            title: 'Acme renewal',
            account: 'Acme',
            owner_id: 'owner-1',
            amount: 1200,
            currency: 'EUR',
            expected_close_date: '2025-03-31',
            kind: 'new',
            parent_deal_id: null,
            import_id: null,
            bant_score: null,
            created_at: DAY1,
            created_recorded_at: DAY1,
            stage_entered_at: DAY3,
            stage_entered_recorded_at: DAY3,
            closed_at: DAY10,
            won_amount: 1200,
            activity_count: 0,
            last_activity_at: null,
            revision: 2,
            effective_at: DAY10,
            recorded_at: DAY10,
            version_revision: 2,
            open_interval_revision: null,
          },
        ],
      });
  });

  it('gives the same rows however the events fall into batches', async () => {
    const rows = {
      columns: {
        deal_versions: ['revision', 'valid_to', 'status'],
        stage_intervals: ['entered_revision', 'exit_kind'],
      },
    } as const;
    const expected = {
      deal_versions: [
        { revision: 0, valid_to: DAY3, status: 'open' },
        { revision: 1, valid_to: DAY10, status: 'open' },
        { revision: 2, valid_to: 'infinity', status: 'won' },
      ],
      stage_intervals: [
        { entered_revision: 0, exit_kind: 'moved' },
        { entered_revision: 1, exit_kind: 'won' },
      ],
    };
    await spec.given(pipelineDefined, created, moved, won).when().then(expected, rows);
    await spec.given(pipelineDefined).when(created, moved, won).then(expected, rows);
    await spec.given(pipelineDefined, created, moved).when(won).then(expected, rows);
  });

  it('an open deal counts in its stage: create → move leaves one open deal of 1,000 EUR in B', async () => {
    await spec
      .given(pipelineDefined, created)
      .when(moved)
      .then({
        stage_totals: [{ pipeline_id: P, stage_id: B, currency: 'EUR', open_count: 1, open_amount: 1000 }],
        // and on the UTC day it entered B (the move's, DAY3): A's day row left with it
        stage_entry_days: [
          {
            pipeline_id: P,
            stage_id: B,
            currency: 'EUR',
            entered_day: DAY3.slice(0, 10),
            open_count: 1,
            open_amount: 1000,
          },
        ],
      });
  });

  it('a backdated event takes effect at the deal’s latest instant on the business axis, at its own on the recorded one', async () => {
    const backdated = event(`deal-${D}`, 'StageAdvanced', { fromStageId: B, toStageId: C }, '2025-01-02T00:00:00Z', {
      recordedAt: '2025-01-04T00:00:00Z',
    });
    await spec
      .given(pipelineDefined, created, moved)
      .when(backdated)
      .then(
        {
          stage_transitions: [
            { revision: 0, to_stage_id: A, at: DAY1, recorded_at: DAY1 },
            { revision: 1, to_stage_id: B, at: DAY3, recorded_at: DAY3 },
            { revision: 2, to_stage_id: C, at: DAY3, recorded_at: '2025-01-04T00:00:00+00:00' },
          ],
        },
        { columns: { stage_transitions: ['revision', 'to_stage_id', 'at', 'recorded_at'] } },
      );
  });

  it('an activity counts on the deal (the activity itself stays in the audit history)', async () => {
    const activity = event(
      `deal-${D}`,
      'ActivityLogged',
      { activityId: '00000000-0000-4000-8000-0000000000e1', kind: 'call', note: 'intro call' },
      '2025-01-02T10:00:00Z',
      { actorId: 'owner-1' },
    );
    await spec
      .given(pipelineDefined, created)
      .when(activity)
      .then(
        {
          deals: [
            { activity_count: 1, last_activity_at: '2025-01-02T10:00:00+00:00', version_revision: 0, revision: 1 },
          ],
        },
        { columns: { deals: ['activity_count', 'last_activity_at', 'version_revision', 'revision'] } },
      );
  });
});
