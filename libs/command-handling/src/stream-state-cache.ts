import type { Event } from '@dealstream/decider';
import type { EventStore, GlobalPosition, RecordedEvent, StreamRevision } from '@dealstream/event-store';
import type { StreamDecider } from './aggregate-stream.js';

/** A stream folded up to a revision, as the write path last saw it. */
export interface CachedStream<State> {
  readonly state: State;
  /** Revision of the last event folded in; undefined while the stream has no events. */
  readonly revision: StreamRevision | undefined;
  /** Global position of that event (a no-op write answers it). */
  readonly position: GlobalPosition | undefined;
}

interface Entry {
  readonly decider: object;
  readonly cached: CachedStream<unknown>;
}

/** Default bound: a deal's folded state is about a kilobyte, so 10,000 streams hold ~10 MB. */
export const DEFAULT_STREAM_STATE_CACHE_SIZE = 10_000;

/**
 * Folded stream states keyed by stream id (and the decider that folded them), least recently used
 * evicted beyond `maxEntries`. A cached state may be stale — another process appended since — and
 * that is safe by construction: every write appends at the cached revision, so a stale entry fails
 * the expected-revision check and is brought up to date by reading only the events after it
 * (`catchUp`). Streams only ever grow, so those events are all that can be missing.
 */
export class StreamStateCache {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly maxEntries: number = DEFAULT_STREAM_STATE_CACHE_SIZE) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get<State, Evt extends Event>(streamId: string, decider: StreamDecider<State, Evt>): CachedStream<State> | undefined {
    const entry = this.entries.get(streamId);
    if (!entry || entry.decider !== decider) return undefined;
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    return entry.cached as CachedStream<State>;
  }

  /** Keeps the newer of the held and the given state (concurrent writes in one process may finish out of order). */
  set<State, Evt extends Event>(
    streamId: string,
    decider: StreamDecider<State, Evt>,
    cached: CachedStream<State>,
  ): void {
    const held = this.entries.get(streamId);
    if (
      held?.decider === decider &&
      held.cached.revision !== undefined &&
      (cached.revision === undefined || held.cached.revision > cached.revision)
    )
      return;
    this.entries.delete(streamId);
    this.entries.set(streamId, { decider, cached });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }
}

/**
 * The stream's state, from `cached` plus the events after it (all of them when nothing is cached):
 * one read of what is new, never a replay of what was already folded.
 */
export async function catchUp<State, Evt extends Event>(
  store: EventStore,
  streamId: string,
  decider: StreamDecider<State, Evt>,
  cached: CachedStream<State> | undefined,
): Promise<CachedStream<State>> {
  const from = cached?.revision;
  const events = await store.readStream<Evt>(streamId, from === undefined ? {} : { fromRevision: from + 1n });
  return foldOnto(decider, cached, events);
}

/** Folds recorded events onto a cached state (or the initial state). */
export function foldOnto<State, Evt extends Event>(
  decider: StreamDecider<State, Evt>,
  cached: CachedStream<State> | undefined,
  events: readonly RecordedEvent<Evt>[],
): CachedStream<State> {
  let state = cached ? cached.state : decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  const last = events.at(-1);
  return last
    ? { state, revision: last.revision, position: last.position }
    : (cached ?? { state, revision: undefined, position: undefined });
}

/**
 * The state after appending `events` (just decided) onto `cached`, as a replay would fold them: the
 * data goes through JSON first, as the store keeps it (an `undefined` field is absent on replay).
 */
export function appendedOnto<State, Evt extends Event>(
  decider: StreamDecider<State, Evt>,
  cached: CachedStream<State>,
  events: readonly Evt[],
  revision: StreamRevision,
  position: GlobalPosition,
): CachedStream<State> {
  let state = cached.state;
  for (const event of events) {
    const stored = { ...event, data: JSON.parse(JSON.stringify(event.data)) as Evt['data'] };
    state = decider.evolve(state, stored);
  }
  return { state, revision, position };
}
