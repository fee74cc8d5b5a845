import { readFileSync } from 'node:fs';
import { CANONICAL_RECORD_SCHEMA } from './canonical-record.schema.js';
import { parseCanonicalLine } from './canonical-reader.js';

const ref = { file: 'f.ndjson', line: 7 };
const change = {
  type: 'deal-change',
  deal: 'D1',
  change: 'stage',
  sourceRecordId: 'H1',
  at: '2025-01-01T10:00:00+02:00',
  actor: 'sam',
  stage: 'S2',
};

describe('the canonical record schema', () => {
  it('is what docs/import.schema.json publishes (regenerate the file from CANONICAL_RECORD_SCHEMA)', () => {
    const published: unknown = JSON.parse(readFileSync('docs/import.schema.json', 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(CANONICAL_RECORD_SCHEMA)));
  });

  it('accepts a valid change and keeps its line', () => {
    expect(parseCanonicalLine(JSON.stringify(change), ref)).toEqual({ ref, record: change });
    expect(parseCanonicalLine('   ', ref)).toBeUndefined();
  });

  it.each([
    [
      'a local time (no zone)',
      { at: '2025-01-01T10:00:00' },
      'at must be an ISO 8601 instant with a zone (Z or ±hh:mm)',
    ],
    ['a date only', { at: '2025-01-01' }, 'at must be an ISO 8601 instant with a zone (Z or ±hh:mm)'],
    ['an impossible instant', { at: '2025-13-01T10:00:00Z' }, 'at is not a real instant: 2025-13-01T10:00:00Z'],
    // Date.parse rolls a day past the month's end over into the next month: it must not move the change.
    ['a day the month does not have', { at: '2025-02-30T10:00:00Z' }, 'at is not a real instant: 2025-02-30T10:00:00Z'],
    ['an unknown field', { colour: 'red' }, 'record has an unknown field "colour"'],
    ['an unknown change', { change: 'teleported' }, 'unknown change "teleported"'],
    ['an unknown type', { type: 'opportunity' }, 'unknown type "opportunity"'],
    [
      'a NUL in the actor',
      { actor: 'sam\u0000' },
      'actor must be one line without control characters or lone surrogates',
    ],
    [
      'a lone surrogate in a record id',
      { sourceRecordId: 'H\ud800' },
      'sourceRecordId must be one line without control characters or lone surrogates',
    ],
    ['a missing actor', { actor: undefined }, "record must have required property 'actor'"],
  ])('refuses %s', (_, patch, reason) => {
    expect(parseCanonicalLine(JSON.stringify({ ...change, ...patch }), ref)).toMatchObject({ ref, error: reason });
  });

  it('refuses decimal minor units, a lower-case currency, and upsells without a parent', () => {
    const deal = {
      type: 'deal',
      sourceId: 'D1',
      sourceRecordId: 'D1',
      at: '2025-01-01T00:00:00Z',
      actor: 'sam',
      pipeline: 'P',
      title: 'T',
      account: 'A',
      amount: 100,
      currency: 'EUR',
      owner: 'sam',
    };
    expect(parseCanonicalLine(JSON.stringify(deal), ref)).toMatchObject({ record: deal });
    expect(parseCanonicalLine(JSON.stringify({ ...deal, amount: 99.5 }), ref)).toMatchObject({
      error: 'amount must be an integer (minor units)',
      hint: { type: 'deal', deal: 'D1' },
    });
    expect(parseCanonicalLine(JSON.stringify({ ...deal, currency: 'eur' }), ref)).toMatchObject({
      error: 'currency must match pattern "^[A-Z]{3}$"',
    });
    expect(parseCanonicalLine(JSON.stringify({ ...deal, kind: 'upsell' }), ref)).toMatchObject({
      error: "record must have required property 'parent'",
    });
    expect(parseCanonicalLine(JSON.stringify({ ...deal, parent: 'D0' }), ref)).toMatchObject({
      error: expect.any(String),
    });
  });

  it('refuses a malformed line with the parser message', () => {
    expect(parseCanonicalLine('{"type":', ref)).toMatchObject({
      ref,
      error: expect.stringMatching(/^malformed JSON: /),
    });
  });
});
