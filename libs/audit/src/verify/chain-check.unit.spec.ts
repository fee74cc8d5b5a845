import { hashEvent, type HashedEventContent } from '@dealstream/event-store';
import { StreamChainCheck, type StoredChainEvent } from './chain-check.js';

const STREAM = 'deal-00000000-0000-4000-8000-000000000001';

/** A correctly chained stream of n events, hashed exactly as the SQL store hashes them. */
function chain(n: number): StoredChainEvent[] {
  const events: StoredChainEvent[] = [];
  let previousHash: string | null = null;
  for (let i = 0; i < n; i++) {
    const content: HashedEventContent = {
      streamId: STREAM,
      revision: BigInt(i),
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: 'ActivityLogged',
      data: { activityId: `a${i}`, kind: 'call' },
      actorId: 'alice',
      commandId: null,
      correlationId: 'c',
      causationId: null,
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i, 1)),
    };
    const hash = hashEvent(content, previousHash);
    events.push({ content, hash, previousHash });
    previousHash = hash;
  }
  return events;
}

function verify(events: StoredChainEvent[], head: { revision: bigint; lastHash: string | null } | undefined) {
  const check = new StreamChainCheck(STREAM);
  for (const event of events) check.accept(event);
  return check.finish(head);
}

describe('StreamChainCheck', () => {
  const events = chain(5);
  const head = { revision: 4n, lastHash: events[4].hash };

  it('accepts an intact chain whose head matches', () => {
    expect(verify(events, head)).toBeUndefined();
  });

  it('reports changed content at its revision as hash-mismatch', () => {
    const tampered = events.map((e, i) =>
      i === 2 ? { ...e, content: { ...e.content, data: { activityId: 'a2', kind: 'email' } } } : e,
    );
    expect(verify(tampered, head)).toMatchObject({ streamId: STREAM, revision: 2n, reason: 'hash-mismatch' });
  });

  it('reports a re-hashed event at the next revision as broken-link', () => {
    const content = { ...events[2].content, data: { activityId: 'a2', kind: 'email' } };
    const rehashed = events.map((e, i) => (i === 2 ? { ...e, content, hash: hashEvent(content, e.previousHash) } : e));
    expect(verify(rehashed, head)).toMatchObject({ revision: 3n, reason: 'broken-link' });
  });

  it('reports a deleted middle event as a revision gap at the missing revision', () => {
    expect(verify([events[0], events[1], events[3], events[4]], head)).toMatchObject({
      revision: 2n,
      reason: 'revision-gap',
    });
  });

  it('reports a deleted last event, a moved last_hash and a missing row as head-mismatch', () => {
    expect(verify(events.slice(0, 4), head)).toMatchObject({ revision: 4n, reason: 'head-mismatch' });
    expect(verify(events, { revision: 4n, lastHash: events[3].hash })).toMatchObject({
      revision: 4n,
      reason: 'head-mismatch',
    });
    expect(verify(events, { revision: 3n, lastHash: events[3].hash })).toMatchObject({
      revision: 4n,
      reason: 'head-mismatch',
    });
    expect(verify([], head)).toMatchObject({ revision: 0n, reason: 'head-mismatch' });
    expect(verify(events, undefined)).toMatchObject({ revision: 4n, reason: 'head-mismatch' });
  });

  it('keeps only the first break', () => {
    const tampered = events.map((e, i) => (i >= 1 ? { ...e, content: { ...e.content, actorId: 'mallory' } } : e));
    expect(verify(tampered, head)).toMatchObject({ revision: 1n, reason: 'hash-mismatch' });
  });

  it('reports an unhashable row as hash-mismatch without hashing it', () => {
    const flagged = events.map((e, i) =>
      i === 1 ? { ...e, unhashable: 'a stored timestamp has sub-millisecond digits the hash never covered' } : e,
    );
    expect(verify(flagged, head)).toEqual({
      streamId: STREAM,
      revision: 1n,
      reason: 'hash-mismatch',
      detail: 'a stored timestamp has sub-millisecond digits the hash never covered',
    });
  });
});
