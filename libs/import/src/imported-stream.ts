import {
  canonicalData,
  isEventStoreError,
  isPacked,
  packedHeadsAndMiddles,
  preparedFrom,
  type EventProvenance,
  type EventStore,
  type NewEvent,
  type PackedEvents,
  type PreparedEvents,
  type RecordedEvent,
  type StreamAppend,
} from '@dealstream/event-store';
import type { LineRef } from './canonical/canonical-records.js';

/** An event an import decided, before it is stored: its derived id, business time and source line. */
export interface PlannedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: object;
  readonly occurredAt: Date;
  readonly ref: LineRef;
  readonly sourceRecordId: string;
  readonly sourceActor: string;
  readonly commandId: string;
}

/** An import refusal raised while deciding or writing one deal or pipeline (caught per subject). */
export class ImportRefusalError extends Error {
  constructor(
    readonly code: string,
    readonly ref: LineRef,
    reason: string,
  ) {
    super(reason);
    this.name = 'ImportRefusalError';
  }
}

export interface StreamWriteContext {
  readonly store: EventStore;
  readonly importId: string;
  readonly sourceSystem: string;
  readonly actorId: string;
  readonly dryRun: boolean;
}

/**
 * The same event as far as an import compares: type, business time and data (in RFC 8785 form, through
 * the store's `canonicalData`: the `canonicalize` package's text, written directly for the flat
 * objects events carry — a re-run compares every stored event of every deal it reads).
 */
export const sameContent = (stored: RecordedEvent, planned: PlannedEvent) =>
  stored.type === planned.type &&
  stored.metadata.occurredAt.getTime() === planned.occurredAt.getTime() &&
  canonicalData(stored.data) === canonicalData(planned.data);

/**
 * Brings one stream up to the planned history, idempotently, in one append (`plannedSuffix`, then
 * `appendPlanned`). Returns the types appended (or, dry run, that would be).
 */
export async function writePlannedStream(
  context: StreamWriteContext,
  streamId: string,
  plan: readonly PlannedEvent[],
): Promise<string[]> {
  const stored = await context.store.readStream(streamId);
  const suffix = plannedSuffix(streamId, plan, stored);
  await appendPlanned(context, streamId, suffix, stored);
  return suffix.map((event) => event.type);
}

/**
 * What of the plan a stream does not hold yet, compared with what it holds (`stored`, the whole stream):
 * - the stream holds a prefix of the plan (same ids, same content): the rest (nothing when the whole
 *   plan is there) — a re-run or an overlapping export;
 * - the stream holds the plan's prefix followed by events no import wrote (live writes): fine when the
 *   plan has nothing more, else refused `deal-has-live-events` (see docs/import.md);
 * - anything else (an imported event the plan no longer has, or has with other content): refused
 *   `history-diverged`.
 */
export function plannedSuffix(
  streamId: string,
  plan: readonly PlannedEvent[],
  stored: readonly RecordedEvent[],
): readonly PlannedEvent[] {
  let matched = 0;
  while (matched < stored.length && matched < plan.length && stored[matched].eventId === plan[matched].eventId) {
    if (!sameContent(stored[matched], plan[matched])) {
      throw new ImportRefusalError(
        'history-diverged',
        plan[matched].ref,
        `record ${plan[matched].sourceRecordId} was imported before with other content (${stored[matched].type} at ${stored[matched].metadata.occurredAt.toISOString()}); the source rewrote history`,
      );
    }
    matched++;
  }
  const rest = stored.slice(matched);
  if (rest.some((event) => event.metadata.provenance !== undefined)) {
    const first = rest.find((event) => event.metadata.provenance !== undefined)!;
    const ref = plan[Math.min(matched, plan.length - 1)].ref;
    throw new ImportRefusalError(
      'history-diverged',
      ref,
      `${streamId} holds imported event ${first.eventId} (record ${first.metadata.provenance!.sourceRecordId}) at revision ${first.revision} that this import does not have there: a change was inserted before it, removed, or retimed in the source`,
    );
  }
  const suffix = plan.slice(matched);
  if (suffix.length > 0 && rest.length > 0) {
    throw new ImportRefusalError(
      'deal-has-live-events',
      suffix[0].ref,
      `${streamId} has ${rest.length} event(s) written in dealstream since it was imported (from revision ${rest[0].revision}); imported changes are not appended after live ones`,
    );
  }
  return suffix;
}

/**
 * Appends `suffix` (from `plannedSuffix`) in one append at the revision `stored` ends at; nothing in
 * a dry run or when it is empty. A stream that moved meanwhile: refused `concurrent-write`.
 */
export async function appendPlanned(
  context: StreamWriteContext,
  streamId: string,
  suffix: readonly PlannedEvent[],
  stored: readonly RecordedEvent[],
): Promise<void> {
  if (suffix.length === 0 || context.dryRun) return;
  try {
    await context.store.appendToStream(streamId, plannedEvents(context, suffix), {
      expectedRevision: expectedAfter(stored),
    });
  } catch (error) {
    throw concurrentWriteRefusal(error, streamId, suffix) ?? error;
  }
}

/**
 * The one append that brings a stream from `stored` to `stored` + `suffix` (undefined when there is
 * nothing to write, or in a dry run): the import's events with their metadata and provenance, at the
 * revision `stored` ends at. `prepared`: the whole plan's events as `prepareEvents` made them (by the
 * import worker) — the append takes the suffix's part of them instead of building NewEvents here.
 */
export function plannedAppend(
  context: StreamWriteContext,
  streamId: string,
  suffix: readonly PlannedEvent[],
  stored: readonly RecordedEvent[],
  prepared?: PreparedEvents | PackedEvents,
): StreamAppend | undefined {
  if (suffix.length === 0 || context.dryRun) return undefined;
  const events =
    prepared !== undefined && prepared.length >= suffix.length
      ? preparedFrom(prepared, prepared.length - suffix.length)
      : plannedEvents(context, suffix);
  return { streamId, events, expectedRevision: expectedAfter(stored) };
}

const expectedAfter = (stored: readonly RecordedEvent[]) =>
  stored.length === 0 ? ('no_stream' as const) : stored.at(-1)!.revision;

/** The events an import appends for planned ones: its actor, command and correlation ids, business time, provenance. */
export function plannedEvents(
  context: Pick<StreamWriteContext, 'importId' | 'sourceSystem' | 'actorId'>,
  planned: readonly PlannedEvent[],
): NewEvent[] {
  return planned.map((event) => ({
    eventId: event.eventId,
    type: event.type,
    data: event.data,
    metadata: {
      actorId: context.actorId,
      commandId: event.commandId,
      correlationId: context.importId,
      causationId: event.commandId,
      occurredAt: event.occurredAt,
      provenance: {
        importId: context.importId,
        sourceSystem: context.sourceSystem,
        sourceRecordId: event.sourceRecordId,
        sourceActor: event.sourceActor,
      },
    },
  }));
}

/**
 * The planned events that `prepareEvents` made `prepared` of (`plannedEvents` then `prepareEvents`, on
 * the import worker), given each one's type and source line: ids, data, business time and command id
 * read back from the canonical pieces, source record and actor from the provenance piece.
 */
export function plannedFromPrepared(
  events: PreparedEvents | PackedEvents,
  types: readonly string[],
  refs: readonly LineRef[],
): PlannedEvent[] {
  const prepared = isPacked(events) ? packedHeadsAndMiddles(events) : events;
  return prepared.heads.map((head, k) => {
    const content = JSON.parse(`{${head}}`) as { eventId: string; data: object; occurredAt: string; commandId: string };
    const { provenance } = JSON.parse(`{${prepared.middles[k]}}`) as { provenance: EventProvenance };
    return {
      eventId: content.eventId,
      type: types[k],
      data: content.data,
      occurredAt: new Date(content.occurredAt),
      ref: refs[k],
      sourceRecordId: provenance.sourceRecordId,
      sourceActor: provenance.sourceActor,
      commandId: content.commandId,
    };
  });
}

/** A stream that moved since it was read (another writer): the deal is refused `concurrent-write`; any other error is not a refusal. */
export function concurrentWriteRefusal(
  error: unknown,
  streamId: string,
  suffix: readonly PlannedEvent[],
): ImportRefusalError | undefined {
  if (isEventStoreError(error, 'wrong-expected-revision') || isEventStoreError(error, 'idempotency-conflict'))
    return new ImportRefusalError(
      'concurrent-write',
      suffix[0].ref,
      `${streamId} changed while it was imported; run the import again`,
    );
  return undefined;
}
