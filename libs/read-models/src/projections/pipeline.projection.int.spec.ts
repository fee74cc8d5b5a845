import { event, projectionSpec } from '../../../../test/support/projection-spec.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';

/*
 * The pipeline projection, events in → rows out, every expected row computed by hand: a pipeline
 * defined on 1 January with stages A, B, C; B's probability raised on 1 February; B removed on
 * 1 March, its open deals going to C.
 */
const P = '00000000-0000-4000-8000-00000000000b';
const A = '00000000-0000-4000-8000-0000000000b1';
const B = '00000000-0000-4000-8000-0000000000b2';
const C = '00000000-0000-4000-8000-0000000000b3';
const JAN = '2025-01-01T00:00:00+00:00';
const FEB = '2025-02-01T00:00:00+00:00';
const MAR = '2025-03-01T00:00:00+00:00';

const stageA = { stageId: A, name: 'A', probability: 10 };
const stageB = { stageId: B, name: 'B', probability: 50 };
const stageC = { stageId: C, name: 'C', probability: 90 };
const defined = event(
  `pipeline-${P}`,
  'PipelineDefined',
  { pipelineId: P, name: 'Sales', currency: 'EUR', stages: [stageA, stageB, stageC] },
  JAN,
);
const probability = event(`pipeline-${P}`, 'StageProbabilityChanged', { stageId: B, probability: 60 }, FEB);
const removed = event(`pipeline-${P}`, 'StageRemoved', { stageId: B, moveOpenDealsTo: C }, MAR);

const definition = { pipeline_id: P, name: 'Sales', currency: 'EUR', status: 'active' };

describe('pipeline projection: given / when / then (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 2 });
  });
  afterAll(() => database.drop());
  const spec = projectionSpec(() => database.db);

  it('define → change a probability → remove a stage: three versions of the definition, the current one, the removed stage', async () => {
    const removedB = { [B]: { name: 'B', movedTo: C } };
    await spec
      .given(defined)
      .when(probability, removed)
      .then(
        {
          pipeline_versions: [
            {
              ...definition,
              revision: 0,
              valid_from: JAN,
              valid_to: FEB,
              recorded_from: JAN,
              recorded_to: FEB,
              stages: [stageA, stageB, stageC],
              removed_stages: {},
            },
            {
              ...definition,
              revision: 1,
              valid_from: FEB,
              valid_to: MAR,
              recorded_from: FEB,
              recorded_to: MAR,
              stages: [stageA, { ...stageB, probability: 60 }, stageC],
              removed_stages: {},
            },
            {
              ...definition,
              revision: 2,
              valid_from: MAR,
              valid_to: 'infinity',
              recorded_from: MAR,
              recorded_to: 'infinity',
              stages: [stageA, stageC],
              removed_stages: removedB,
            },
          ],
          pipelines: [
            {
              ...definition,
              stages: [stageA, stageC],
              removed_stages: removedB,
              revision: 2,
              effective_at: MAR,
              updated_at: MAR,
            },
          ],
          removed_stages: [
            {
              pipeline_id: P,
              stage_id: B,
              removal_event_id: expect.any(String),
              moved_to_stage_id: C,
              removed_at: MAR,
            },
          ],
        },
        {
          columns: {
            pipelines: [
              'pipeline_id',
              'name',
              'currency',
              'status',
              'stages',
              'removed_stages',
              'revision',
              'effective_at',
              'updated_at',
            ],
          },
        },
      );
  });

  it('gives the same versions however the events fall into batches', async () => {
    const expected = {
      pipeline_versions: [
        { revision: 0, valid_to: FEB },
        { revision: 1, valid_to: MAR },
        { revision: 2, valid_to: 'infinity' },
      ],
    };
    const columns = { columns: { pipeline_versions: ['revision', 'valid_to'] } } as const;
    await spec.given(defined, probability, removed).when().then(expected, columns);
    await spec.given(defined, probability).when(removed).then(expected, columns);
  });

  it('a backdated change takes effect at the pipeline’s latest instant', async () => {
    const backdated = event(`pipeline-${P}`, 'StageRenamed', { stageId: A, name: 'Lead' }, '2024-12-01T00:00:00Z');
    await spec
      .given(defined, probability)
      .when(backdated)
      .then(
        {
          pipeline_versions: [
            { revision: 0, valid_from: JAN },
            { revision: 1, valid_from: FEB },
            { revision: 2, valid_from: FEB },
          ],
        },
        { columns: { pipeline_versions: ['revision', 'valid_from'] } },
      );
  });
});
