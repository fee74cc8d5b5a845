import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** What every successful write answers (also the body a retried Idempotency-Key gets back). */
export class WriteResponseDto {
  @ApiProperty({ format: 'uuid', description: 'Id of the written deal or pipeline' })
  id!: string;

  @ApiProperty({ example: 'deal-0d5c7c4e-9b1a-4f4e-8d7e-2b1f0c3a9e11' })
  streamId!: string;

  @ApiProperty({ example: '3', description: 'Stream revision after the write (64-bit, as a string); also the ETag' })
  revision!: string;

  @ApiProperty({
    example: '00000000000002f1-0000000000000017',
    description: 'Opaque global position of the last event: pass it as minPosition to read your own write',
  })
  position!: string;

  @ApiProperty({ type: [String], example: ['StageAdvanced'], description: 'Types of the events the write appended' })
  events!: string[];
}

export class ActivityLoggedResponseDto extends WriteResponseDto {
  @ApiProperty({ format: 'uuid', description: "Id of the logged activity (the body's id, or a new one)" })
  activityId!: string;
}

export class FollowOnResponseDto extends WriteResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The won deal the new one follows on from (`id` is the new deal)' })
  parentDealId!: string;
}

export class StageAddedResponseDto extends WriteResponseDto {
  @ApiProperty({ format: 'uuid', description: "Id of the added stage (the body's stageId, or a new one)" })
  stageId!: string;
}

class FieldErrorDto {
  @ApiProperty({ example: 'amount', description: 'Dotted path of the field in the body or query' })
  field!: string;
  @ApiProperty({ type: [String] })
  messages!: string[];
}

/** RFC 9457 problem details, as every error is answered. */
export class ProblemDto {
  @ApiProperty({ example: 'https://dealstream.dev/problems/deal-closed' })
  type!: string;
  @ApiProperty({ example: 'Deal closed' })
  title!: string;
  @ApiProperty({ example: 409 })
  status!: number;
  @ApiProperty({ example: 'deal 0d5c… is lost; reopen it first' })
  detail!: string;
  @ApiProperty({
    required: false,
    example: '/deals/0d5c…/stage',
    description: 'The request target; absent when the request could not be read (408, 431, malformed HTTP)',
  })
  instance?: string;
  @ApiProperty({ example: 'deal-closed', description: 'Stable machine-readable code (the tail of `type`)' })
  code!: string;
  @ApiProperty({ required: false, description: 'The request correlation id (X-Correlation-Id)' })
  correlationId?: string;
  @ApiProperty({
    required: false,
    type: [FieldErrorDto],
    description: '`validation-failed`: each invalid field with its messages',
  })
  errors?: FieldErrorDto[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "A domain rule's details (e.g. `field`, the deal's `status`), by code",
  })
  details?: Record<string, unknown>;
  @ApiProperty({
    required: false,
    type: 'string',
    nullable: true,
    description: '`precondition-failed`: the revision the stream is at (null: it does not exist)',
  })
  currentRevision?: string | null;
  @ApiProperty({ required: false, description: '`forbidden`: the permission of the role matrix the route needs' })
  requiredPermission?: string;
  @ApiProperty({ required: false, description: '`read-model-behind`: the position that was not reached in time' })
  minPosition?: string;
  @ApiProperty({
    required: false,
    type: 'integer',
    description: '`version-not-found`: how many events the stream has',
  })
  currentVersion?: number;
  @ApiProperty({
    required: false,
    format: 'date-time',
    description: "`no-state-at-instant`: when the stream's first event happened",
  })
  firstEventAt?: string;
}
