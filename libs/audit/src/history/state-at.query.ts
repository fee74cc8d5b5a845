import type { EventStore, RecordedEvent } from '@dealstream/event-store';
import { NotFoundError } from '@dealstream/command-handling';
import type { AuditedAggregate } from '../audited-aggregates/audited-aggregate.js';
import { replayStream } from './stream-replay.js';

/** Which clock `asOf` reads: business time (`occurredAt`, may be backdated) or system time (`recordedAt`). */
export type TimeAxis = 'occurred' | 'recorded';

export interface StateAt<State> {
  readonly state: State;
  /** The last event folded into `state`; `state.version` is its revision + 1. */
  readonly lastEvent: RecordedEvent;
}

export type StateLookup<State> =
  | {
      readonly found: true;
      readonly at: StateAt<State>;
      /** asOf only: later events that claim to have happened by the instant but follow one that did not. */
      readonly excludedBackdatedEvents: number;
    }
  | { readonly found: false; readonly reason: 'version-beyond-end'; readonly currentVersion: number }
  | { readonly found: false; readonly reason: 'before-first-event'; readonly firstInstant: Date };

/**
 * The state after the first `version` events (revisions 0..version-1), folded with the write side's
 * own `evolve`. Throws NotFoundError when the aggregate has no stream.
 *
 * @example await stateAtVersion(store, DEAL_AUDIT, dealId, 100) // the deal after revision 99
 */
export async function stateAtVersion<State extends { version: number }>(
  store: EventStore,
  aggregate: AuditedAggregate<State>,
  id: string,
  version: number,
): Promise<StateLookup<State>> {
  let state = aggregate.initialState();
  let lastEvent: RecordedEvent | undefined;
  for await (const event of replayStream(store, aggregate.streamName(id), { maxCount: version })) {
    state = aggregate.evolve(state, event);
    lastEvent = event;
  }
  if (!lastEvent) throw new NotFoundError(aggregate.kind, id);
  if (state.version < version) return { found: false, reason: 'version-beyond-end', currentVersion: state.version };
  return { found: true, at: { state, lastEvent }, excludedBackdatedEvents: 0 };
}

/**
 * The state as it was at an instant: after the longest run of events, from the first, that all
 * happened (axis `occurred`) or were recorded (axis `recorded`) at or before `instant`. So the answer
 * is always a state the write side really had; an event backdated to before the instant but written
 * after one that is later than the instant is not folded, only counted in `excludedBackdatedEvents`.
 */
export async function stateAsOf<State extends { version: number }>(
  store: EventStore,
  aggregate: AuditedAggregate<State>,
  id: string,
  instant: Date,
  axis: TimeAxis,
): Promise<StateLookup<State>> {
  let state = aggregate.initialState();
  let lastEvent: RecordedEvent | undefined;
  let firstInstant: Date | undefined;
  let prefixEnded = false;
  let excludedBackdatedEvents = 0;
  for await (const event of replayStream(store, aggregate.streamName(id))) {
    const at = axis === 'occurred' ? event.metadata.occurredAt : event.recordedAt;
    firstInstant ??= at;
    const happened = at.getTime() <= instant.getTime();
    if (!prefixEnded && happened) {
      state = aggregate.evolve(state, event);
      lastEvent = event;
    } else {
      prefixEnded = true;
      if (happened) excludedBackdatedEvents++;
    }
  }
  if (!firstInstant) throw new NotFoundError(aggregate.kind, id);
  if (!lastEvent) return { found: false, reason: 'before-first-event', firstInstant };
  return { found: true, at: { state, lastEvent }, excludedBackdatedEvents };
}
