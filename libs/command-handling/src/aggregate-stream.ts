import { fold, type Decider, type Event } from '@dealstream/decider';
import type { EventStore, RecordedEvent, StreamRevision } from '@dealstream/event-store';

/** The part of a decider that rebuilds state: enough to aggregate a stream. */
export type StreamDecider<State, Evt extends Event> = Pick<Decider<State, never, Evt>, 'evolve' | 'initialState'>;

/** A stream folded into its state. */
export interface AggregatedStream<State> {
  readonly state: State;
  /** Revision of the stream's last event; undefined when the stream does not exist. */
  readonly revision: StreamRevision | undefined;
}

/** Folds events read from one stream (in revision order) into the decider's state. */
export function foldStream<State, Evt extends Event>(
  decider: StreamDecider<State, Evt>,
  events: readonly RecordedEvent<Evt>[],
): AggregatedStream<State> {
  return { state: fold(decider, events), revision: events.at(-1)?.revision };
}

/** Reads a stream typed by the decider's events and folds it: the state and the revision it stands at. */
export async function aggregateStream<State, Evt extends Event>(
  store: EventStore,
  streamId: string,
  decider: StreamDecider<State, Evt>,
): Promise<AggregatedStream<State>> {
  return foldStream(decider, await store.readStream<Evt>(streamId));
}
