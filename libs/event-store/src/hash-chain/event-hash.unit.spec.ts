import canonicalize from 'canonicalize';
import fc from 'fast-check';
import {
  assembleCanonicalForm,
  canonicalData,
  canonicalEventForm,
  canonicalEventParts,
  type HashedEventContent,
} from './event-hash.js';

const json: fc.Arbitrary<unknown> = fc.jsonValue();
const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const optionalId = fc.option(text, { nil: undefined });
const instant = fc.date({
  min: new Date('1900-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});

const content: fc.Arbitrary<HashedEventContent> = fc.record({
  streamId: text,
  revision: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  eventId: fc.uuid(),
  type: text,
  data: fc.dictionary(text, json),
  actorId: text,
  commandId: optionalId,
  correlationId: optionalId,
  causationId: optionalId,
  occurredAt: instant,
  recordedAt: instant,
  // Imported events carry provenance (it sorts between previousHash and recordedAt); live ones do not.
  provenance: fc.option(
    fc.record({ importId: fc.uuid(), sourceSystem: text, sourceRecordId: text, sourceActor: text }),
    { nil: undefined },
  ),
});

describe('canonical form in parts (what the SQL append assembles)', () => {
  it('the parts put together around previousHash, recordedAt and revision (provenance or not) are exactly the canonical form', () => {
    fc.assert(
      fc.property(content, fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }), (event, previousHash) => {
        const { revision, recordedAt, ...writer } = event;
        expect(assembleCanonicalForm(canonicalEventParts(writer), previousHash, recordedAt, revision)).toBe(
          canonicalEventForm(event, previousHash),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('the same for strings of any UTF-16 code units (lone surrogates, controls, quotes) in every string member', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 12 });
    const anyContent = fc.record({
      streamId: anyText,
      revision: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      eventId: fc.uuid(),
      type: anyText,
      data: fc.dictionary(
        anyText,
        fc.oneof(anyText, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
      ),
      actorId: anyText,
      commandId: fc.option(anyText, { nil: undefined }),
      correlationId: fc.option(anyText, { nil: null }),
      causationId: fc.option(anyText, { nil: undefined }),
      occurredAt: instant,
      recordedAt: instant,
      provenance: fc.option(
        fc.record({ importId: anyText, sourceSystem: anyText, sourceRecordId: anyText, sourceActor: anyText }),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(anyContent, (event) => {
        const { revision, recordedAt, ...writer } = event;
        expect(assembleCanonicalForm(canonicalEventParts(writer), null, recordedAt, revision)).toBe(
          canonicalEventForm(event, null),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("data's form is canonicalize's, the same text or the same error, for flat and nested members of any code units", () => {
    // Lone surrogates (which canonicalize refuses) among ordinary, escaped and paired code units.
    const unit = fc.constantFrom('a', 'B', 'é', '💼', '\ud800', '\udfff', '"', '\\', '\n', '\u0001');
    const anyText = fc.oneof(fc.string({ unit, maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 8 }));
    const member = fc.oneof(
      anyText,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 2 }),
      fc.date({ noInvalidDate: true }),
    );
    const outcome = (form: () => string | undefined) => {
      try {
        return { form: form() };
      } catch (error) {
        return { error: String(error) };
      }
    };
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(anyText, member), fc.array(member, { maxLength: 3 })), (data) => {
        expect(outcome(() => canonicalData(data))).toEqual(outcome(() => canonicalize(data)));
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes what JCS escapes in the pieces, keys sorted by code unit inside data', () => {
    const parts = canonicalEventParts({
      streamId: 'deal-"quoted"\n',
      eventId: '00000000-0000-4000-8000-000000000001',
      type: 'Ünïcode ✓',
      data: { b: 1, a: [1.5, 'x\u0001'], B: null },
      actorId: 'user-1',
      occurredAt: new Date('2025-01-02T03:04:05.678Z'),
    });
    expect(parts.head).toBe(
      '"actorId":"user-1","alg":"sha256-jcs-v1","causationId":null,"commandId":null,"correlationId":null,' +
        '"data":{"B":null,"a":[1.5,"x\\u0001"],"b":1},"eventId":"00000000-0000-4000-8000-000000000001",' +
        '"occurredAt":"2025-01-02T03:04:05.678Z"',
    );
    expect(parts.tail).toBe('"streamId":"deal-\\"quoted\\"\\n","type":"Ünïcode ✓"');
  });
});
