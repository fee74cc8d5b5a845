import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AuditEventDto } from './audit-event.dto.js';
import { ANY_JSON_VALUE } from '../../controller-kit/api-docs.decorators.js';

const IDENTITIES = {
  enum: ['visible', 'pseudonymous'],
  description:
    'pseudonymous: actor and owner ids are stable pseudonyms (anon-…), for callers without identities:clear (analyst)',
};

export class HistoryPageDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty()
  streamId!: string;
  @ApiProperty({ type: [AuditEventDto], description: 'In revision order' })
  events!: AuditEventDto[];
  @ApiProperty({
    type: 'string',
    nullable: true,
    example: '99',
    description: 'Pass as after= for the next page; null on the last page',
  })
  next!: string | null;
  @ApiProperty(IDENTITIES)
  identities!: 'visible' | 'pseudonymous';
}

export class StateAtDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty()
  streamId!: string;
  @ApiProperty({ example: 100, description: 'Number of events folded' })
  version!: number;
  @ApiProperty({ example: '99', description: 'Revision of the last event folded (version - 1)' })
  revision!: string;
  @ApiProperty({ format: 'date-time', description: 'occurredAt of that event' })
  occurredAt!: string;
  @ApiProperty({ format: 'date-time', description: 'recordedAt of that event' })
  recordedAt!: string;
  @ApiProperty({ description: 'Global position of that event' })
  position!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'The asked instant (asOf queries)' })
  asOf?: string;
  @ApiPropertyOptional({ enum: ['occurred', 'recorded'] })
  axis?: 'occurred' | 'recorded';
  @ApiPropertyOptional({
    description:
      'asOf: later events that claim to have happened by the instant but were written after one that had not; they are not folded (docs/audit.md)',
  })
  excludedBackdatedEvents?: number;
  @ApiProperty(IDENTITIES)
  identities!: 'visible' | 'pseudonymous';
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The state exactly as the write side folds it (DealState / PipelineState)',
  })
  state!: object;
}

export class ChangeSetterDto {
  @ApiProperty({ example: '11' })
  revision!: string;
  @ApiProperty({ format: 'uuid' })
  eventId!: string;
  @ApiProperty({ example: 'DealValueChanged' })
  type!: string;
  @ApiProperty({ example: 'alice' })
  actorId!: string;
  @ApiProperty({ format: 'date-time' })
  occurredAt!: string;
  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;
}

export class FieldChangeDto {
  @ApiProperty({
    example: 'amount',
    description: 'Dotted path into the state (stages.<stageId>.probability for pipelines)',
  })
  field!: string;
  @ApiProperty({ ...ANY_JSON_VALUE, description: 'Value at the from version (null when absent)' })
  before!: unknown;
  @ApiProperty({ ...ANY_JSON_VALUE, description: 'Value at the to version (null when absent)' })
  after!: unknown;
  @ApiProperty({ description: 'How many events in the range changed it' })
  changeCount!: number;
  @ApiProperty({ type: ChangeSetterDto, description: 'The last event in the range that changed it' })
  setBy!: ChangeSetterDto;
}

export class StateDiffDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty()
  streamId!: string;
  @ApiProperty()
  fromVersion!: number;
  @ApiProperty()
  toVersion!: number;
  @ApiProperty({ description: 'Events between the two versions: revisions from..to-1' })
  eventCount!: number;
  @ApiProperty({ type: [FieldChangeDto] })
  changes!: FieldChangeDto[];
  @ApiProperty(IDENTITIES)
  identities!: 'visible' | 'pseudonymous';
}

export class EventFeedPageDto {
  @ApiProperty({ type: [AuditEventDto], description: 'In global order; never an event twice, never one skipped' })
  events!: AuditEventDto[];
  @ApiProperty({
    example: '00000000000002f1-0000000000000017',
    description: 'Pass as after= to continue; equals after when nothing new was readable yet',
  })
  next!: string;
}

export class ChainBreakDto {
  @ApiProperty()
  streamId!: string;
  @ApiProperty({ example: '5' })
  revision!: string;
  @ApiProperty({ enum: ['hash-mismatch', 'broken-link', 'revision-gap', 'head-mismatch'] })
  reason!: string;
  @ApiProperty()
  detail!: string;
}

export class VerifyReportDto {
  @ApiProperty({ enum: ['store', 'stream'] })
  scope!: 'store' | 'stream';
  @ApiPropertyOptional()
  streamId?: string;
  @ApiProperty({ description: 'True when no stream has a break' })
  ok!: boolean;
  @ApiProperty()
  streamsChecked!: number;
  @ApiProperty({ description: 'Events whose link and hash were checked (a broken stream up to its first break)' })
  eventsChecked!: number;
  @ApiProperty()
  brokenStreams!: number;
  @ApiProperty({ type: [ChainBreakDto], description: 'The first break of each broken stream (at most 1,000 listed)' })
  breaks!: ChainBreakDto[];
}

export class ChainAnchorDto {
  @ApiProperty({ example: 'dealstream.chain-anchor.v1' })
  format!: string;
  @ApiProperty({ example: '2026-12-03T09:00:00.000Z', description: 'When the heads were read' })
  takenAt!: string;
  @ApiProperty()
  streams!: number;
  @ApiProperty({ example: '1051', description: 'Events certified: Σ (head revision + 1), decimal' })
  events!: string;
  @ApiProperty({
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description: "Hex SHA-256 of the heads in RFC 8785 form: publish it where the database's writers cannot change it",
  })
  digest!: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 },
    example: [
      [
        'deal-0d5c7c4e-9b1a-4f4e-8d7e-2b1f0c3a9e11',
        '12',
        '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8',
      ],
    ],
    description: '[streamId, head revision, hash of that event] per stream, in stream-id order',
  })
  heads!: [string, string, string][];
}
