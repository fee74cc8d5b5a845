import { randomUUID } from 'node:crypto';
import type { Event } from '@dealstream/decider';
import {
  isEventStoreError,
  type EventStore,
  type GlobalPosition,
  type NewEvent,
  type RecordedEvent,
} from '@dealstream/event-store';
import { derivedId, type CommandContext } from './command-context.js';
import { ContentionDeadlineError, PreconditionFailedError } from './application.errors.js';
import { foldStream, type StreamDecider } from './aggregate-stream.js';

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

export interface HandleCommandOptions<State, Evt extends Event> {
  /** Folds the stream into the state `decide` is given. */
  readonly decider: StreamDecider<State, Evt>;
  readonly context: CommandContext;
  /** How long a write without If-Match keeps deciding again when it loses races; DEFAULT_CONTENTION_POLICY unless set. */
  readonly contention?: ContentionPolicy;
}

/** Runs the domain on the current state; throws DomainError to refuse. May load what it needs first. */
export type DecideOnState<State, Evt extends Event> = (state: State) => Evt[] | Promise<Evt[]>;

/**
 * The bound of "decided again": a write without If-Match that keeps losing the race for its stream
 * retries, with full-jitter exponential backoff, until `deadlineMs` after it started. Past that it
 * gives up with ContentionDeadlineError (HTTP 503 `write-contention` with Retry-After), nothing written.
 */
export interface ContentionPolicy {
  /** Time budget of one write from its first read, in milliseconds. */
  readonly deadlineMs: number;
  /** Backoff after the n-th lost race: a uniformly random pause in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_CONTENTION_POLICY: ContentionPolicy = { deadlineMs: 10_000, baseDelayMs: 4, maxDelayMs: 500 };

/** Nest injection token of the ContentionPolicy the command handlers pass to handleCommand (optional). */
export const WRITE_CONTENTION_POLICY = Symbol.for('dealstream.WriteContentionPolicy');

/**
 * The one write path, in the spirit of emmett's CommandHandler: read the stream, fold, decide,
 * append at the revision that was read.
 *
 * - A retried `Idempotency-Key` is recognised by the derived id of its first event already being in
 *   the stream: the first answer is rebuilt from the stored events and nothing is decided again (so
 *   "win" retried after success answers 200, not "already won").
 * - `If-Match` is checked against the revision read, and a concurrent write between read and append
 *   also fails it: the client's precondition was about that revision.
 * - Without `If-Match`, a concurrent write only means "decide again on the newer state": retried
 *   with jittered backoff until it succeeds or the ContentionPolicy's deadline passes.
 *
 * Both checks look at the stream as read, before it is folded (so this reads and folds in two steps
 * rather than through aggregateStream).
 */
export async function handleCommand<State, Evt extends Event>(
  store: EventStore,
  streamId: string,
  decide: DecideOnState<State, Evt>,
  options: HandleCommandOptions<State, Evt>,
): Promise<WriteResult> {
  const { context } = options;
  const policy = options.contention ?? DEFAULT_CONTENTION_POLICY;
  const startedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    const history = await store.readStream<Evt>(streamId);
    const replay = findReplay(history, streamId, context);
    if (replay) return replay;
    const revision = history.at(-1)?.revision;
    if (context.ifMatchRevision !== undefined && context.ifMatchRevision !== revision) {
      throw new PreconditionFailedError(streamId, context.ifMatchRevision, revision);
    }
    const { state } = foldStream(options.decider, history);
    const decided = await decide(state);
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
      metadata: {
        actorId: context.actorId,
        commandId,
        correlationId: context.correlationId,
        causationId: commandId,
        occurredAt: context.now,
      },
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
      const pause = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
      const elapsed = Date.now() - startedAt;
      if (elapsed + pause >= policy.deadlineMs) throw new ContentionDeadlineError(streamId, attempt, elapsed);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function findReplay(
  history: readonly RecordedEvent[],
  streamId: string,
  context: CommandContext,
): WriteResult | undefined {
  const firstId = derivedId(context, 'event', streamId, 0);
  if (!firstId) return undefined;
  const start = history.findIndex((event) => event.eventId === firstId);
  if (start < 0) return undefined;
  let end = start;
  while (history[end + 1]?.eventId === derivedId(context, 'event', streamId, end + 1 - start)) end++;
  const applied = history.slice(start, end + 1);
  const last = applied.at(-1)!;
  return {
    streamId,
    revision: last.revision,
    position: last.position,
    eventTypes: applied.map((e) => e.type),
    replayed: true,
  };
}
