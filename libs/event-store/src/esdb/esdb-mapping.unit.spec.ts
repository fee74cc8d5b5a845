import fc from 'fast-check';
import { comparePositions, decodePosition, encodePosition } from '../port/global-position.js';
import type { EventMetadata } from '../port/event-store.types.js';
import {
  appendIdOf,
  fromEsdbCurrentRevision,
  fromEsdbMetadata,
  fromEsdbPosition,
  fromEsdbRecordedEvent,
  isSystemEvent,
  matchesFilter,
  streamCategory,
  toEsdbEventData,
  toEsdbExpectedRevision,
  toEsdbMetadata,
  toEsdbPosition,
} from './esdb-mapping.js';

const MAX_U64 = (1n << 64n) - 1n;
const u64 = fc.bigInt({ min: 0n, max: MAX_U64 });
const created = new Date('2026-01-02T03:04:05.678Z');

describe('expected revision → client', () => {
  it('passes no_stream, stream_exists, any and exact revisions through as the client spells them', () => {
    expect(toEsdbExpectedRevision('no_stream')).toBe('no_stream');
    expect(toEsdbExpectedRevision('stream_exists')).toBe('stream_exists');
    expect(toEsdbExpectedRevision('any')).toBe('any');
    expect(toEsdbExpectedRevision(0n)).toBe(0n);
    expect(toEsdbExpectedRevision(MAX_U64)).toBe(MAX_U64);
  });

  it('refuses a negative revision as invalid-append', () => {
    expect(() => toEsdbExpectedRevision(-1n)).toThrow(expect.objectContaining({ code: 'invalid-append' }));
  });

  it("reads the client's current revision back: 'no_stream' is undefined", () => {
    expect(fromEsdbCurrentRevision('no_stream')).toBeUndefined();
    expect(fromEsdbCurrentRevision(4n)).toBe(4n);
    expect(fromEsdbCurrentRevision('17')).toBe(17n);
  });
});

describe('positions', () => {
  it('maps commit to major and prepare to minor, and back', () => {
    expect(fromEsdbPosition({ commit: 10n, prepare: 7n })).toEqual({ major: 10n, minor: 7n });
    expect(toEsdbPosition({ major: 10n, minor: 7n })).toEqual({ commit: 10n, prepare: 7n });
  });

  it('round-trips any 64-bit commit/prepare pair through the opaque cursor', () => {
    fc.assert(
      fc.property(u64, u64, (commit, prepare) => {
        const cursor = encodePosition(fromEsdbPosition({ commit, prepare }));
        expect(toEsdbPosition(decodePosition(cursor)!)).toEqual({ commit, prepare });
      }),
    );
  });

  it('round-trips the edges: zero, 2^53 + 1 (past double precision), 2^63 and 2^64 - 1', () => {
    for (const value of [0n, (1n << 53n) + 1n, 1n << 63n, MAX_U64]) {
      const position = fromEsdbPosition({ commit: value, prepare: MAX_U64 - value });
      expect(decodePosition(encodePosition(position))).toEqual(position);
    }
    expect(encodePosition(fromEsdbPosition({ commit: MAX_U64, prepare: 1n }))).toBe(
      'ffffffffffffffff-0000000000000001',
    );
  });

  it('orders cursors as strings exactly as $all orders (commit, prepare) pairs', () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, (c1, p1, c2, p2) => {
        const a = fromEsdbPosition({ commit: c1, prepare: p1 });
        const b = fromEsdbPosition({ commit: c2, prepare: p2 });
        const byEsdb = c1 !== c2 ? (c1 < c2 ? -1 : 1) : p1 === p2 ? 0 : p1 < p2 ? -1 : 1;
        const ea = encodePosition(a);
        const eb = encodePosition(b);
        expect(Math.sign(comparePositions(a, b))).toBe(byEsdb);
        expect(ea === eb ? 0 : ea < eb ? -1 : 1).toBe(byEsdb);
      }),
    );
  });

  it('refuses a part outside 64 bits when encoding', () => {
    expect(() => encodePosition(fromEsdbPosition({ commit: MAX_U64 + 1n, prepare: 0n }))).toThrow(RangeError);
  });
});

describe('metadata', () => {
  const full: EventMetadata = {
    actorId: 'alice',
    commandId: 'cmd-1',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    occurredAt: new Date('2025-03-31T09:15:00.123Z'),
  };

  it('writes our fields, ESDB $correlationId/$causationId and the append id', () => {
    expect(toEsdbMetadata(full, 'append-1')).toEqual({
      actorId: 'alice',
      commandId: 'cmd-1',
      correlationId: 'corr-1',
      $correlationId: 'corr-1',
      causationId: 'cause-1',
      $causationId: 'cause-1',
      occurredAt: '2025-03-31T09:15:00.123Z',
      appendId: 'append-1',
    });
    expect(toEsdbMetadata({ actorId: 'bob', occurredAt: full.occurredAt }, 'a')).toEqual({
      actorId: 'bob',
      occurredAt: '2025-03-31T09:15:00.123Z',
      appendId: 'a',
    });
  });

  it('round-trips full and minimal metadata through JSON, as the server stores it', () => {
    const minimal: EventMetadata = { actorId: 'bob', occurredAt: new Date('2024-02-29T23:59:59.999Z') };
    for (const metadata of [full, minimal]) {
      const stored = JSON.parse(JSON.stringify(toEsdbMetadata(metadata, 'append-1')));
      expect(fromEsdbMetadata(stored, created)).toEqual(metadata);
      expect(appendIdOf(stored)).toBe('append-1');
    }
  });

  it("round-trips an imported event's provenance; a malformed one reads as absent", () => {
    const provenance = { importId: 'imp-1', sourceSystem: 'acme', sourceRecordId: 'OH-1', sourceActor: 'sam' };
    const stored = JSON.parse(JSON.stringify(toEsdbMetadata({ ...full, provenance }, 'append-1')));
    expect(stored.provenance).toEqual(provenance);
    expect(fromEsdbMetadata(stored, created)).toEqual({ ...full, provenance });
    expect(fromEsdbMetadata({ ...stored, provenance: { importId: 'imp-1' } }, created)).toEqual(full);
  });

  it('reads events of other producers: $-names for correlation, created for occurredAt, empty actor', () => {
    expect(fromEsdbMetadata({ $correlationId: 'c', $causationId: 'd' }, created)).toEqual({
      actorId: '',
      correlationId: 'c',
      causationId: 'd',
      occurredAt: created,
    });
    expect(fromEsdbMetadata(undefined, created)).toEqual({ actorId: '', occurredAt: created });
    expect(fromEsdbMetadata(new Uint8Array([1, 2]), created)).toEqual({ actorId: '', occurredAt: created });
    expect(fromEsdbMetadata({ actorId: 'x', occurredAt: 'not a date' }, created)).toEqual({
      actorId: 'x',
      occurredAt: created,
    });
    expect(appendIdOf(undefined)).toBeUndefined();
  });

  it("builds the client's event input: id, type, data and metadata", () => {
    const data = { title: 'ACME', nested: [1, null] };
    expect(toEsdbEventData({ eventId: 'e-1', type: 'DealCreated', data, metadata: full }, 'a')).toEqual({
      id: 'e-1',
      type: 'DealCreated',
      data,
      metadata: toEsdbMetadata(full, 'a'),
    });
  });
});

describe('recorded events', () => {
  const recorded = {
    streamId: 'deal-1',
    id: 'A1B2C3D4-0000-4000-8000-000000000001',
    revision: 3n,
    type: 'DealWon',
    data: { amount: 5 },
    metadata: { actorId: 'alice', occurredAt: '2025-01-01T00:00:00.000Z', appendId: 'x' },
    created,
    position: { commit: 200n, prepare: 190n },
  };

  it('maps revision, position, ids and recordedAt (from created)', () => {
    expect(fromEsdbRecordedEvent(recorded)).toEqual({
      eventId: 'a1b2c3d4-0000-4000-8000-000000000001',
      streamId: 'deal-1',
      revision: 3n,
      type: 'DealWon',
      data: { amount: 5 },
      metadata: { actorId: 'alice', occurredAt: new Date('2025-01-01T00:00:00.000Z') },
      recordedAt: created,
      position: { major: 200n, minor: 190n },
    });
  });

  it('refuses an event without a position (servers before 22.6 omit it on stream reads)', () => {
    expect(() => fromEsdbRecordedEvent({ ...recorded, position: undefined })).toThrow(/22\.6/);
  });
});

describe('system events and filters', () => {
  it('treats $-prefixed types and streams as system events', () => {
    expect(isSystemEvent({ streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' })).toBe(true);
    expect(isSystemEvent({ streamId: '$ce-deal', type: '$>' })).toBe(true);
    expect(isSystemEvent({ streamId: '$$deal-1', type: '$metadata' })).toBe(true);
    expect(isSystemEvent({ streamId: 'deal-1', type: '$metadata' })).toBe(true);
    expect(isSystemEvent({ streamId: 'deal-1', type: 'DealCreated' })).toBe(false);
  });

  it('takes the category before the first dash, like $ce-', () => {
    expect(streamCategory('deal-1b2c-3d4e')).toBe('deal');
    expect(streamCategory('pipeline')).toBe('pipeline');
  });

  it('filters by event type and stream category, both when both are given', () => {
    const won = { streamId: 'deal-1', type: 'DealWon' };
    expect(matchesFilter(won, undefined)).toBe(true);
    expect(matchesFilter(won, { eventTypes: [] })).toBe(true);
    expect(matchesFilter(won, { eventTypes: ['DealWon'] })).toBe(true);
    expect(matchesFilter(won, { eventTypes: ['DealLost'] })).toBe(false);
    expect(matchesFilter(won, { streamCategories: ['pipeline'] })).toBe(false);
    expect(matchesFilter(won, { eventTypes: ['DealWon'], streamCategories: ['deal'] })).toBe(true);
    expect(matchesFilter(won, { eventTypes: ['DealWon'], streamCategories: ['pipeline'] })).toBe(false);
  });
});
