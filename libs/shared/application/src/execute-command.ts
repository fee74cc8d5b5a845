import { randomUUID } from 'node:crypto';
import { fold, type Event } from '@dealstream/shared-domain';
import {
  isEventStoreError,
  type EventStore,
  type GlobalPosition,
  type NewEvent,
  type RecordedEvent,
} from '@dealstream/event-store';
import { derivedId, type CommandContext } from './command-context.js';
import { PreconditionFailedError } from './application.errors.js';

/** What a write answers: where the stream stands now, and where its last event sits globally. */
export interface WriteResult {
  readonly streamId: string;
  /** Revision of the stream's last event (the new ETag). */
  readonly revision: bigint;
  /** Global position of the stream's last event: the read-your-writes watermark. */
  readonly position: GlobalPosition;
  /** Types of the events this command appended (on a replayed retry: of the first attempt). */
  readonly eventTypes: readonly string[];
  /** True when this was a retry of an already applied `Idempotency-Key`. */
  readonly replayed: boolean;
}

export interface ExecuteCommandOptions<State, Evt extends Event> {
  readonly streamId: string;
  readonly evolve: (state: State, event: Evt) => State;
  readonly initialState: () => State;
  /** Runs the decider on the current state; throws DomainError to refuse. */
  readonly decide: (state: State) => Evt[] | Promise<Evt[]>;
  readonly context: CommandContext;
}

/** Enough for a burst of concurrent writers on one stream; each lost race costs one short, jittered pause. */
const MAX_ATTEMPTS = 12;

/**
 * The one write path: load the stream, fold, decide, append at the revision that was read.
 *
 * - A retried `Idempotency-Key` is recognised by the derived id of its first event already being in
 *   the stream: the first answer is rebuilt from the stored events and nothing is decided again (so
 *   "win" retried after success answers 200, not "already won").
 * - `If-Match` is checked against the revision read, and a concurrent write between read and append
 *   also fails it: the client's precondition was about that revision.
 * - Without `If-Match`, a concurrent write only means "decide again on the newer state": retried.
 */
export async function executeCommand<State, Evt extends Event>(
  store: EventStore,
  options: ExecuteCommandOptions<State, Evt>,
): Promise<WriteResult> {
  const { streamId, context } = options;
  for (let attempt = 1; ; attempt++) {
    const history = await store.readStream(streamId);
    const replay = findReplay(history, streamId, context);
    if (replay) return replay;
    const revision = history.at(-1)?.revision;
    if (context.ifMatchRevision !== undefined && context.ifMatchRevision !== revision) {
      throw new PreconditionFailedError(streamId, context.ifMatchRevision, revision);
    }
    const state = fold(options, history.map((recorded) => ({ type: recorded.type, data: recorded.data }) as Evt));
    const decided = await options.decide(state);
    if (decided.length === 0) {
      // An accepted no-op (e.g. the same owner again): nothing to write, answer where the stream is.
      const last = history.at(-1);
      if (!last) throw new Error(`command on ${streamId} decided nothing on an empty stream`);
      return { streamId, revision: last.revision, position: last.position, eventTypes: [], replayed: false };
    }
    const commandId = derivedId(context, 'command', streamId) ?? randomUUID();
    const events: NewEvent[] = decided.map((event, index) => ({
      eventId: derivedId(context, 'event', streamId, index) ?? randomUUID(),
      type: event.type,
      data: event.data,
      metadata: { actorId: context.actorId, commandId, correlationId: context.correlationId, causationId: commandId, occurredAt: context.now },
    }));
    try {
      const result = await store.appendToStream(streamId, events, { expectedRevision: revision ?? 'no_stream' });
      return {
        streamId,
        revision: result.nextExpectedRevision,
        position: result.position,
        eventTypes: decided.map((event) => event.type),
        replayed: result.alreadyStored,
      };
    } catch (error) {
      if (!isEventStoreError(error, 'wrong-expected-revision')) throw error;
      if (context.ifMatchRevision !== undefined) {
        throw new PreconditionFailedError(streamId, context.ifMatchRevision, await store.streamRevision(streamId));
      }
      if (attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

function findReplay(history: readonly RecordedEvent[], streamId: string, context: CommandContext): WriteResult | undefined {
  const firstId = derivedId(context, 'event', streamId, 0);
  if (!firstId) return undefined;
  const start = history.findIndex((event) => event.eventId === firstId);
  if (start < 0) return undefined;
  let end = start;
  while (history[end + 1]?.eventId === derivedId(context, 'event', streamId, end + 1 - start)) end++;
  const applied = history.slice(start, end + 1);
  const last = applied.at(-1)!;
  return { streamId, revision: last.revision, position: last.position, eventTypes: applied.map((e) => e.type), replayed: true };
}
