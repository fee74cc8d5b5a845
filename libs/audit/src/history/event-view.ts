import { encodePosition, type EventProvenance, type RecordedEvent } from '@dealstream/event-store';
import type { AuditedAggregate } from '../audited-aggregates/audited-aggregate.js';
import { redactEventData, type Redactor } from '../redaction/redaction.js';

/** An event as the audit routes and the feed answer it: 64-bit numbers and instants as strings. */
export interface AuditEventView {
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: string;
  /** Opaque global position (`encodePosition`). */
  readonly position: string;
  readonly type: string;
  readonly data: object;
  /** The principal who caused it, or their pseudonym in a redacted view. */
  readonly actorId: string;
  readonly commandId: string | null;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly hash: string | null;
  readonly previousHash: string | null;
  /**
   * Imported events: the import run, source system, source record id and source actor (the actor
   * pseudonymous in a redacted view); null for live writes. `actorId` is still the importing principal.
   */
  readonly provenance: EventProvenance | null;
}

/**
 * Shapes a stored event for the API. With a redactor, the actor and the aggregate's identity fields
 * in the data are pseudonyms.
 */
export function toEventView(
  event: RecordedEvent,
  redaction?: { redactor: Redactor; aggregate?: AuditedAggregate<{ version: number }> },
): AuditEventView {
  const { metadata } = event;
  return {
    eventId: event.eventId,
    streamId: event.streamId,
    revision: event.revision.toString(),
    position: encodePosition(event.position),
    type: event.type,
    data: redaction ? redactEventData(redaction.aggregate, event.type, event.data, redaction.redactor) : event.data,
    actorId: redaction ? redaction.redactor.pseudonym(metadata.actorId) : metadata.actorId,
    commandId: metadata.commandId ?? null,
    correlationId: metadata.correlationId ?? null,
    causationId: metadata.causationId ?? null,
    occurredAt: metadata.occurredAt.toISOString(),
    recordedAt: event.recordedAt.toISOString(),
    hash: event.hash ?? null,
    previousHash: event.previousHash ?? null,
    provenance: provenanceView(metadata.provenance, redaction?.redactor),
  };
}

function provenanceView(
  provenance: EventProvenance | undefined,
  redactor: Redactor | undefined,
): EventProvenance | null {
  if (!provenance) return null;
  return redactor ? { ...provenance, sourceActor: redactor.pseudonym(provenance.sourceActor) } : provenance;
}
