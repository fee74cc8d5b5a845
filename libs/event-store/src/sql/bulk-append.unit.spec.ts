import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { canonicalEventForm, hashEvent } from '../hash-chain/event-hash.js';
import type { ExpectedRevision, NewEvent, PackedEvents, PreparedEvents } from '../port/event-store.types.js';
import { writeBulkLines, type BulkAppendRequest, type BulkHead } from './bulk-append.js';
import { PackWriter, checkPacked, isPacked, prepareEvents, preparedFrom, unpackPrepared } from './prepared-events.js';

/**
 * The bulk path writes what it is given as strings (`prepareEvents`) or as bytes (`PackWriter`, what
 * the import worker sends): the COPY text — every value of every row, revisions, record time, previous
 * hashes and hashes — must be the same bytes either way.
 */

const RECORDED = '2026-12-07T15:00:00.123Z';

const event = (type: string, data: object, metadata: Partial<NewEvent['metadata']> = {}): NewEvent => ({
  eventId: randomUUID(),
  type,
  data,
  metadata: { actorId: 'analyst', occurredAt: new Date('2021-06-01T10:00:00.123Z'), ...metadata },
});

const imported = (type: string, record: string, data: object, actor = 'rep "7" \\ ü'): NewEvent =>
  event(type, data, {
    commandId: `cmd-${record}`,
    correlationId: 'import-1',
    causationId: `cmd-${record}`,
    provenance: { importId: 'import-1', sourceSystem: 'acme-crm', sourceRecordId: record, sourceActor: actor },
  });

/** Packed on one thread and sent to another: the buffers transferred, as the import worker posts them. */
function packAndSend(all: readonly PreparedEvents[]): PackedEvents[] {
  const writer = new PackWriter();
  const packs = all.map((prepared) => writer.pack(prepared));
  const transfer = writer.take();
  const sent = structuredClone(packs, { transfer });
  expect(transfer.every((buffer) => buffer.byteLength === 0)).toBe(true); // moved, not copied
  return sent;
}

function copyText(requests: readonly BulkAppendRequest[], heads: () => Map<string, BulkHead>) {
  const written = writeBulkLines(requests, heads(), RECORDED);
  return {
    text: written.lines.rows().text,
    appended: written.appended,
    refused: written.refused,
    created: [...written.created],
  };
}

function bothWays(appends: readonly { streamId: string; events: NewEvent[]; expectedRevision: ExpectedRevision }[]) {
  const prepared = appends.map(({ streamId, events }) => prepareEvents(streamId, events));
  const packed = packAndSend(prepared);
  const asStrings = appends.map(({ streamId, expectedRevision }, k): BulkAppendRequest => ({
    streamId,
    expectedRevision,
    eventIds: prepared[k].eventIds,
    prepared: prepared[k],
  }));
  const asBytes = appends.map(({ streamId, expectedRevision }, k): BulkAppendRequest => ({
    streamId,
    expectedRevision,
    prepared: checkPacked(streamId, packed[k]),
  }));
  return { prepared, packed, asStrings, asBytes };
}

describe('writeBulkLines: prepared events as strings or packed as bytes', () => {
  it('writes byte-identical COPY text, hashes chained as hashEvent chains them', () => {
    const existing = `deal-${randomUUID()}`;
    const fresh = `deal-${randomUUID()}`;
    const plain = `pipeline-${randomUUID()}`;
    const appends = [
      {
        streamId: fresh,
        expectedRevision: 'no_stream' as const,
        events: [
          imported('DealCreated', 'D1', {
            title: 'tab\there, "quoted", back\\slash, line\nbreak\r ü € 😀',
            amount: 120000,
            ratio: 0.1,
            none: null,
            nested: { b: [1, 'x'], a: true },
          }),
          imported('DealWon', 'D1-w', {}, 'tab\tactor\n'),
        ],
      },
      // An existing stream: previous hash and revision from its head.
      { streamId: existing, expectedRevision: 4n, events: [imported('DealValueChanged', 'D2-a', { amount: 1 })] },
      // No provenance (an empty middle piece), no command ids.
      { streamId: plain, expectedRevision: 'any' as const, events: [event('PipelineDefined', { name: 'Ü\\n' })] },
      // Refused: its expected revision does not hold (nothing of it is written).
      { streamId: existing, expectedRevision: 0n, events: [imported('DealLost', 'D2-l', {})] },
    ];
    const heads = () => new Map<string, BulkHead>([[existing, { exists: true, revision: 4n, hash: 'a'.repeat(64) }]]);
    const { asStrings, asBytes } = bothWays(appends);
    const strings = copyText(asStrings, heads);
    const bytes = copyText(asBytes, heads);
    expect(bytes).toEqual(strings);
    expect(strings.refused).toEqual([{ index: 3, actual: 5n }]);
    expect(strings.created.sort()).toEqual([fresh, plain].sort());

    // The hashes in the text are the chain hashEvent computes from the events' content.
    const rows = strings.text
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'));
    expect(rows).toHaveLength(4);
    const expected = [
      { streamId: fresh, revision: 0n, previous: null, event: appends[0].events[0] },
      { streamId: fresh, revision: 1n, previous: rows[0][13], event: appends[0].events[1] },
      { streamId: existing, revision: 5n, previous: 'a'.repeat(64), event: appends[1].events[0] },
      { streamId: plain, revision: 0n, previous: null, event: appends[2].events[0] },
    ];
    expected.forEach(({ streamId, revision, previous, event: { eventId, type, data, metadata } }, k) => {
      const content = { streamId, revision, eventId, type, data, ...metadata, recordedAt: new Date(RECORDED) };
      expect(rows[k].slice(10)).toEqual([String(revision), RECORDED, previous ?? '\\N', hashEvent(content, previous)]);
    });
  });

  it('packed events unpack to the strings they were packed from, whole and from any event on', () => {
    const streamId = `deal-${randomUUID()}`;
    const events = [imported('A', 'r1', { text: 'ü € 😀' }), event('B', { n: 2 }), imported('C', 'r3', { t: 'x\ty' })];
    const prepared = prepareEvents(streamId, events);
    const [packed] = packAndSend([prepared]);
    expect(isPacked(packed)).toBe(true);
    expect(unpackPrepared(packed)).toEqual(prepared);
    for (let start = 0; start <= events.length; start++)
      expect(unpackPrepared(preparedFrom(packed, start))).toEqual(preparedFrom(prepared, start));
  });

  it('refuses packed events of another stream or with offsets out of place', () => {
    const streamId = `deal-${randomUUID()}`;
    const [packed] = packAndSend([prepareEvents(streamId, [event('A', {})])]);
    expect(() => checkPacked('deal-other', packed)).toThrow(expect.objectContaining({ code: 'invalid-append' }));
    expect(() => checkPacked(streamId, { ...packed, ends: packed.ends.slice(1) })).toThrow(
      expect.objectContaining({ code: 'invalid-append' }),
    );
    expect(() => checkPacked(streamId, { ...packed, ends: [0, 5, 3, packed.bytes.byteLength] })).toThrow(
      expect.objectContaining({ code: 'invalid-append' }),
    );
    expect(checkPacked(streamId, packed)).toBe(packed);
  });

  it('gives the same text for any content (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: text.filter(Boolean),
            data: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 })),
            actorId: text.filter(Boolean),
            commandId: fc.option(text, { nil: undefined }),
            record: fc.option(text, { nil: undefined }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (specs) => {
          const streamId = `deal-${randomUUID()}`;
          const events = specs.map(({ type, data, actorId, commandId, record }) =>
            record === undefined
              ? event(type, data, { actorId, ...(commandId !== undefined ? { commandId } : {}) })
              : imported(type, record, data, actorId),
          );
          const { asStrings, asBytes } = bothWays([{ streamId, expectedRevision: 'no_stream', events }]);
          const strings = copyText(asStrings, () => new Map());
          expect(copyText(asBytes, () => new Map())).toEqual(strings);
          // Each hash is the SHA-256 of the canonical form the hash chain defines.
          const rows = strings.text
            .split('\n')
            .filter(Boolean)
            .map((line) => line.split('\t'));
          expect(rows.map((row) => row[13])).toEqual(
            events.reduce<string[]>((hashes, { eventId, type, data, metadata }, k) => {
              const content = {
                streamId,
                revision: BigInt(k),
                eventId: eventId.toLowerCase(),
                type,
                data,
                ...metadata,
                recordedAt: new Date(RECORDED),
              };
              canonicalEventForm(content, hashes[k - 1] ?? null); // serialisable
              return [...hashes, hashEvent(content, hashes[k - 1] ?? null)];
            }, []),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
