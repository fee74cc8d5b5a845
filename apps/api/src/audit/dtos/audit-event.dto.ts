import { ApiProperty } from '@nestjs/swagger';

/** Where an imported event came from (docs/import.md). */
export class EventProvenanceDto {
  @ApiProperty({ example: 'imp-2026-12-06-crm', description: 'The import run that wrote the event' })
  importId!: string;
  @ApiProperty({ example: 'salesforce', description: 'The system the history came from' })
  sourceSystem!: string;
  @ApiProperty({ example: 'OH-0061', description: "The source's own id of the record behind the event" })
  sourceRecordId!: string;
  @ApiProperty({
    example: 'jdoe@example.com',
    description: 'Who made the change in the source system — a pseudonym (anon-…) without identities:clear',
  })
  sourceActor!: string;
}

/** One stored event, as history pages and the event feed answer it. */
export class AuditEventDto {
  @ApiProperty({ format: 'uuid' })
  eventId!: string;
  @ApiProperty({ example: 'deal-0d5c7c4e-9b1a-4f4e-8d7e-2b1f0c3a9e11' })
  streamId!: string;
  @ApiProperty({ example: '41', description: 'Stream revision (64-bit, as a string), from 0' })
  revision!: string;
  @ApiProperty({ example: '00000000000002f1-0000000000000017', description: 'Opaque global position' })
  position!: string;
  @ApiProperty({ example: 'StageAdvanced' })
  type!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The event data as stored; for a redacted caller, owner ids are pseudonyms',
  })
  data!: object;
  @ApiProperty({
    example: 'alice',
    description:
      'The principal (token sub) who caused it — or its pseudonym (anon-…) for callers without identities:clear',
  })
  actorId!: string;
  @ApiProperty({ type: 'string', nullable: true })
  commandId!: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  correlationId!: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  causationId!: string | null;
  @ApiProperty({ format: 'date-time', description: 'Business time (may be backdated)' })
  occurredAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When the store recorded it (database clock)' })
  recordedAt!: string;
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'SHA-256 (hex) of the canonical form, chained to previousHash; see docs/audit.md',
  })
  hash!: string | null;
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Hash of the previous event of the stream; null for revision 0',
  })
  previousHash!: string | null;
  @ApiProperty({
    type: EventProvenanceDto,
    nullable: true,
    description: 'Imported events: their source record, beside actorId (the importing principal); null otherwise',
  })
  provenance!: EventProvenanceDto | null;
}
