/**
 * Canonical import records for tests (docs/import.md): a header, a two-stage pipeline "P" (S1 "One"
 * 10%, S2 "Two" 50%, defined 2025-01-01) and a deal in it (created 2025-01-02 in S1, EUR 1,000, sam's).
 */
export const canonicalHeader = (sourceSystem: string) => ({
  type: 'header',
  format: 'dealstream-canonical',
  version: 1,
  sourceSystem,
});

export const twoStagePipeline = {
  type: 'pipeline',
  sourceId: 'P',
  sourceRecordId: 'P-def',
  at: '2025-01-01T00:00:00Z',
  actor: 'admin',
  name: 'Sales',
  currency: 'EUR',
  stages: [
    { sourceId: 'S1', name: 'One', probability: 10 },
    { sourceId: 'S2', name: 'Two', probability: 50 },
  ],
};

/** A deal record whose source id is also its record id; `extra` overrides or adds fields. */
export const canonicalDeal = (id: string, extra: object = {}) => ({
  type: 'deal',
  sourceId: id,
  sourceRecordId: id,
  at: '2025-01-02T00:00:00Z',
  actor: 'sam',
  pipeline: 'P',
  stage: 'S1',
  title: `Deal ${id}`,
  account: 'ACME',
  amount: 1000,
  currency: 'EUR',
  owner: 'sam',
  ...extra,
});
