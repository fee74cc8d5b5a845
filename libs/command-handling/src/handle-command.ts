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
import type { StreamDecider } from './aggregate-stream.js';
import { appendedOnto, catchUp, foldOnto, type CachedStream, type StreamStateCache } from './stream-state-cache.js';

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
  /**
   * Folded states of recent streams: with it, a write without Idempotency-Key decides on the cached
   * state and reads nothing when it is current (see handleCommand). Without it, every write reads
   * and folds the whole stream.
   */
  readonly cache?: StreamStateCache;
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
 *
 * With `options.cache`, a write without Idempotency-Key decides on the cached folded state instead
 * of reading the stream (handleOnCachedState); a keyed write still reads the whole stream, as its
 * first attempt may sit anywhere in it.
 */
export async function handleCommand<State, Evt extends Event>(
  store: EventStore,
  streamId: string,
  decide: DecideOnState<State, Evt>,
  options: HandleCommandOptions<State, Evt>,
): Promise<WriteResult> {
  const { context, cache } = options;
  if (cache && context.idempotencyKey === undefined)
    return handleOnCachedState(store, streamId, decide, options, cache);
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
    const folded = foldOnto(options.decider, undefined, history);
    cache?.set(streamId, options.decider, folded);
    const decided = await decide(folded.state);
    if (decided.length === 0) {
      // An accepted no-op (e.g. the same owner again): nothing to write, answer where the stream is.
      const last = history.at(-1);
      if (!last) throw new Error(`command on ${streamId} decided nothing on an empty stream`);
      return { streamId, revision: last.revision, position: last.position, eventTypes: [], replayed: false };
    }
    const events = toNewEvents(decided, streamId, context);
    try {
      const result = await store.appendToStream(streamId, events, { expectedRevision: revision ?? 'no_stream' });
      if (!result.alreadyStored)
        cache?.set(
          streamId,
          options.decider,
          appendedOnto(options.decider, folded, decided, result.nextExpectedRevision, result.position),
        );
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
      await backOff(policy, streamId, attempt, startedAt);
    }
  }
}

/**
 * handleCommand on a cached state (no Idempotency-Key): decide on the state the cache holds and
 * append at its revision — no read at all when the entry is current. A stale entry (another
 * process appended since) is caught and brought up to date by reading only the events after it:
 * - by the append's expected-revision check, after which the command is decided again as any lost
 *   race is (or fails If-Match, as before);
 * - before deciding, when If-Match names another revision than the cached one;
 * - when `decide` refuses (a domain error, not found), since a newer state might not refuse;
 * - before answering an accepted no-op, so the answer says where the stream is now.
 * A refusal or precondition failure on the up-to-date state is final, exactly as without the cache.
 */
async function handleOnCachedState<State, Evt extends Event>(
  store: EventStore,
  streamId: string,
  decide: DecideOnState<State, Evt>,
  options: HandleCommandOptions<State, Evt>,
  cache: StreamStateCache,
): Promise<WriteResult> {
  const { context, decider } = options;
  const policy = options.contention ?? DEFAULT_CONTENTION_POLICY;
  const startedAt = Date.now();
  const refresh = async (from: CachedStream<State> | undefined) => {
    const fresh = await catchUp(store, streamId, decider, from);
    cache.set(streamId, decider, fresh);
    return fresh;
  };
  let current = cache.get(streamId, decider);
  let isFresh = false;
  if (!current) {
    current = await refresh(undefined);
    isFresh = true;
  }
  for (let attempt = 1; ; attempt++) {
    if (context.ifMatchRevision !== undefined && context.ifMatchRevision !== current.revision && !isFresh) {
      current = await refresh(current);
      isFresh = true;
    }
    if (context.ifMatchRevision !== undefined && context.ifMatchRevision !== current.revision) {
      throw new PreconditionFailedError(streamId, context.ifMatchRevision, current.revision);
    }
    let decided: Evt[];
    try {
      decided = await decide(current.state);
    } catch (error) {
      if (isFresh) throw error;
      const before = current.revision;
      current = await refresh(current);
      isFresh = true;
      if (current.revision === before) throw error;
      continue;
    }
    if (decided.length === 0) {
      if (!isFresh) {
        const before = current.revision;
        current = await refresh(current);
        isFresh = true;
        // The stream moved on: the no-op was decided on an old state, so decide again on the new one.
        if (current.revision !== before) continue;
      }
      if (current.revision === undefined || current.position === undefined)
        throw new Error(`command on ${streamId} decided nothing on an empty stream`);
      return { streamId, revision: current.revision, position: current.position, eventTypes: [], replayed: false };
    }
    try {
      const result = await store.appendToStream(streamId, toNewEvents(decided, streamId, context), {
        expectedRevision: current.revision ?? 'no_stream',
      });
      cache.set(
        streamId,
        decider,
        appendedOnto(decider, current, decided, result.nextExpectedRevision, result.position),
      );
      return {
        streamId,
        revision: result.nextExpectedRevision,
        position: result.position,
        eventTypes: decided.map((event) => event.type),
        replayed: result.alreadyStored,
      };
    } catch (error) {
      if (!isEventStoreError(error, 'wrong-expected-revision')) throw error;
      const lostRace = isFresh;
      current = await refresh(current);
      isFresh = true;
      if (context.ifMatchRevision !== undefined) {
        throw new PreconditionFailedError(streamId, context.ifMatchRevision, current.revision);
      }
      // A stale cache entry is not a lost race: decide again at once on the state just read. A fresh
      // one lost a race, which backs off as handleCommand always has, then reads what is there now.
      if (lostRace) {
        await backOff(policy, streamId, attempt, startedAt);
        current = await refresh(current);
      }
    }
  }
}

/** The pause after the n-th lost race; ContentionDeadlineError when it would end past the policy's deadline. */
async function backOff(policy: ContentionPolicy, streamId: string, attempt: number, startedAt: number): Promise<void> {
  const pause = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  const elapsed = Date.now() - startedAt;
  if (elapsed + pause >= policy.deadlineMs) throw new ContentionDeadlineError(streamId, attempt, elapsed);
  await new Promise((resolve) => setTimeout(resolve, pause));
}

/** The events to append for what `decide` returned, ids derived from the Idempotency-Key when there is one. */
function toNewEvents(decided: readonly Event[], streamId: string, context: CommandContext): NewEvent[] {
  const commandId = derivedId(context, 'command', streamId) ?? randomUUID();
  return decided.map((event, index) => ({
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
