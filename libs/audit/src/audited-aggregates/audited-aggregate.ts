import type { Event } from '@dealstream/decider';

export type AggregateKind = 'deal' | 'pipeline';

/**
 * What the audit views need to know about one kind of aggregate: where its stream is, how the write
 * side folds it (the very same `evolve`), how a diff should look at its state, and which fields name
 * a person (redacted for roles that may not see identities). `Evt` is the aggregate's event union;
 * views that handle any aggregate use the default (`Event`).
 */
export interface AuditedAggregate<State extends { readonly version: number }, Evt extends Event = Event> {
  readonly kind: AggregateKind;
  streamName(id: string): string;
  // Method syntax on purpose: a deal's aggregate must also be usable where any aggregate is expected.
  initialState(): State;
  /** The write side's own evolve: the audit views replay exactly what the deciders fold. */
  evolve(state: State, event: Evt): State;
  /**
   * The state as a diff compares it, without `version` (it changes with every event). Plain objects
   * are compared field by field, arrays as whole values.
   */
  diffView(state: State): Record<string, unknown>;
  /** Event data fields, by event type, whose values are a principal's id (token `sub`). */
  readonly identityDataFields: Readonly<Record<string, readonly string[]>>;
  /** Top-level state fields (also diff field names) whose values are a principal's id. */
  readonly identityStateFields: readonly string[];
}
