import type { EventStore, RecordedEvent } from '@dealstream/event-store';
import { NotFoundError } from '@dealstream/command-handling';
import type { AuditedAggregate } from '../audited-aggregates/audited-aggregate.js';
import { changedFields, deepEqual, valueAt, type ChangedField } from './field-diff.js';
import { replayStream } from './stream-replay.js';

export interface FieldChange extends ChangedField {
  /** The last event in the range that changed this field: its value is `after` since then. */
  readonly setBy: RecordedEvent;
  /** How many events in the range changed this field (a field changed and changed back is not listed). */
  readonly changeCount: number;
}

export type DiffLookup =
  | {
      readonly found: true;
      readonly fromVersion: number;
      readonly toVersion: number;
      /** The events between the two states: revisions fromVersion..toVersion-1. */
      readonly eventCount: number;
      readonly changes: readonly FieldChange[];
    }
  | { readonly found: false; readonly reason: 'version-beyond-end'; readonly currentVersion: number };

/**
 * Field-by-field changes between the state at version `from` and at version `to` (0 ≤ from ≤ to),
 * each with the event that last set it. Throws NotFoundError when the aggregate has no stream.
 *
 * @example await diffVersions(store, DEAL_AUDIT, dealId, 10, 12) // what revisions 10 and 11 changed
 */
export async function diffVersions<State extends { version: number }>(
  store: EventStore,
  aggregate: AuditedAggregate<State>,
  id: string,
  from: number,
  to: number,
): Promise<DiffLookup> {
  let fromState = aggregate.initialState();
  const range: RecordedEvent[] = [];
  let seen = 0;
  for await (const event of replayStream(store, aggregate.streamName(id), { maxCount: to })) {
    if (seen < from) fromState = aggregate.evolve(fromState, event);
    else range.push(event);
    seen++;
  }
  // Nothing read: either no stream at all, or a diff from 0 to 0 of a stream that does exist.
  if (seen === 0 && (to > 0 || (await store.streamRevision(aggregate.streamName(id))) === undefined))
    throw new NotFoundError(aggregate.kind, id);
  if (seen < to) return { found: false, reason: 'version-beyond-end', currentVersion: seen };

  const toState = range.reduce(aggregate.evolve, fromState);
  const fields = changedFields(aggregate.diffView(fromState), aggregate.diffView(toState));
  // Second, in-memory pass: which events changed each of those fields (the range is already read).
  const setBy = new Map<string, RecordedEvent>();
  const counts = new Map<string, number>();
  let previous = aggregate.diffView(fromState);
  let state = fromState;
  for (const event of range) {
    state = aggregate.evolve(state, event);
    const next = aggregate.diffView(state);
    for (const { field } of fields) {
      if (deepEqual(valueAt(previous, field), valueAt(next, field))) continue;
      setBy.set(field, event);
      counts.set(field, (counts.get(field) ?? 0) + 1);
    }
    previous = next;
  }
  const changes = fields.map((change) => ({
    ...change,
    setBy: setBy.get(change.field)!,
    changeCount: counts.get(change.field)!,
  }));
  return { found: true, fromVersion: from, toVersion: to, eventCount: range.length, changes };
}
