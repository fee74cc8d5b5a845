/** Nest injection token of the configured EventStore (SQL or EventStoreDB). */
export const EVENT_STORE = Symbol.for('dealstream.EventStore');
