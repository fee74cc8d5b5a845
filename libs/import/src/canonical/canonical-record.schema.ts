/**
 * The JSON Schema (draft 2019-09) of one line of a canonical import file. docs/import.md describes it;
 * docs/import.schema.json is this object as JSON (canonical-record.schema.unit.spec.ts keeps them equal).
 * Built from small helpers so every record kind lists its own properties and refuses any other.
 */

type Schema = Record<string, unknown>;

const text = (maxLength: number): Schema => ({ type: 'string', minLength: 1, maxLength });
/** Ids and actors land in ids and event metadata as they are: one line, no control characters, no lone surrogates. */
const line = (maxLength: number): Schema => ({ ...text(maxLength), pattern: '^[^\\p{Cc}\\p{Cs}]+$' });
const sourceId: Schema = { ...line(200), description: "The source's own id of the thing (deal, pipeline, stage)" };
/** An instant with its zone: `Z` or `±hh:mm` is required, a local time is refused. */
const instant: Schema = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'ISO 8601 instant with a zone (Z or ±hh:mm)',
};
const calendarDate: Schema = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' };
const minorUnits: Schema = { type: 'integer', minimum: 0, description: 'Integer minor units (cents for EUR)' };
const currency: Schema = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' };
const percent: Schema = { type: 'integer', minimum: 0, maximum: 100 };
const stage: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['sourceId', 'name', 'probability'],
  properties: {
    sourceId,
    name: text(200),
    probability: percent,
    maxDaysInStage: { type: 'integer', minimum: 1 },
  },
};

/** What every record but the header carries: the source record's id, when it happened, who did it. */
const sourced = {
  sourceRecordId: { ...line(200), description: "The source's id of this record; unique within the source system" },
  at: instant,
  actor: { ...line(200), description: 'Who made the change in the source system' },
};

function record(type: string, properties: Schema, required: string[], extra: Schema = {}): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', ...required],
    properties: { type: { const: type }, ...properties },
    ...extra,
  };
}

function change(owner: 'pipeline' | 'deal', kind: string, properties: Schema = {}, required: string[] = []): Schema {
  return record(`${owner}-change`, { [owner]: sourceId, change: { const: kind }, ...sourced, ...properties }, [
    owner,
    'change',
    'sourceRecordId',
    'at',
    'actor',
    ...required,
  ]);
}

const bantCriterion: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['confirmed'],
  properties: { confirmed: { type: 'boolean' }, note: text(2000) },
};

export const CANONICAL_RECORD_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2019-09/schema',
  $id: 'https://dealstream.dev/schemas/canonical-import-record.json',
  title: 'dealstream canonical import record (one NDJSON line)',
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    record(
      'header',
      {
        format: { const: 'dealstream-canonical' },
        version: { const: 1 },
        sourceSystem: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
        exportedAt: instant,
      },
      ['format', 'version', 'sourceSystem'],
    ),
    record(
      'pipeline',
      {
        sourceId,
        ...sourced,
        name: text(200),
        currency,
        stages: { type: 'array', minItems: 1, maxItems: 50, items: stage },
      },
      ['sourceId', 'sourceRecordId', 'at', 'actor', 'name', 'stages'],
    ),
    {
      type: 'object',
      required: ['type', 'change'],
      properties: { type: { const: 'pipeline-change' } },
      discriminator: { propertyName: 'change' },
      oneOf: [
        change('pipeline', 'stage-added', { stage, index: { type: 'integer', minimum: 0 } }, ['stage']),
        change('pipeline', 'stage-renamed', { stage: sourceId, name: text(200) }, ['stage', 'name']),
        change('pipeline', 'stage-removed', { stage: sourceId, moveOpenDealsTo: sourceId }, [
          'stage',
          'moveOpenDealsTo',
        ]),
        change('pipeline', 'stages-reordered', { stages: { type: 'array', minItems: 1, items: sourceId } }, ['stages']),
        change('pipeline', 'stage-probability', { stage: sourceId, probability: percent }, ['stage', 'probability']),
        change('pipeline', 'archived'),
      ],
    },
    record(
      'deal',
      {
        sourceId,
        ...sourced,
        pipeline: sourceId,
        stage: sourceId,
        title: text(200),
        account: text(200),
        contact: text(200),
        amount: minorUnits,
        currency,
        owner: text(200),
        source: text(200),
        expectedCloseDate: calendarDate,
        kind: { enum: ['new', 'upsell', 'cross-sell'] },
        parent: { ...sourceId, description: 'For upsell and cross-sell: the source id of the won deal it grew from' },
      },
      ['sourceId', 'sourceRecordId', 'at', 'actor', 'pipeline', 'title', 'account', 'amount', 'currency', 'owner'],
      {
        if: { required: ['kind'], properties: { kind: { enum: ['upsell', 'cross-sell'] } } },
        then: { required: ['parent'] },
        else: { not: { required: ['parent'] } },
      },
    ),
    {
      type: 'object',
      required: ['type', 'change'],
      properties: { type: { const: 'deal-change' } },
      discriminator: { propertyName: 'change' },
      oneOf: [
        change('deal', 'stage', { stage: sourceId }, ['stage']),
        change('deal', 'amount', { amount: minorUnits, currency }, ['amount', 'currency']),
        change('deal', 'owner', { owner: text(200) }, ['owner']),
        change('deal', 'close-date', { expectedCloseDate: { oneOf: [calendarDate, { type: 'null' }] } }, [
          'expectedCloseDate',
        ]),
        change(
          'deal',
          'qualified',
          {
            bant: {
              type: 'object',
              additionalProperties: false,
              required: ['budget', 'authority', 'need', 'timeline'],
              properties: {
                budget: bantCriterion,
                authority: bantCriterion,
                need: bantCriterion,
                timeline: bantCriterion,
              },
            },
          },
          ['bant'],
        ),
        change(
          'deal',
          'disqualified',
          {
            reason: { enum: ['no-budget', 'no-authority', 'no-need', 'no-timeline', 'no-engagement', 'other'] },
            note: text(2000),
          },
          ['reason'],
        ),
        change('deal', 'lost', { reason: text(500), competitor: text(200) }, ['reason']),
        change('deal', 'won', { amount: minorUnits, reason: text(500) }),
        change('deal', 'reopened', { stage: sourceId }),
        change(
          'deal',
          'activity',
          { kind: { enum: ['call', 'email', 'meeting', 'social', 'note'] }, outcome: text(200), note: text(2000) },
          ['kind'],
        ),
      ],
    },
  ],
} as const;
