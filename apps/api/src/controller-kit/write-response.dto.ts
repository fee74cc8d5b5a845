import { ApiProperty } from '@nestjs/swagger';

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
  @ApiProperty({ example: '/deals/0d5c…/stage' })
  instance!: string;
  @ApiProperty({ example: 'deal-closed', description: 'Stable machine-readable code (the tail of `type`)' })
  code!: string;
  @ApiProperty({ required: false, description: 'The request correlation id (X-Correlation-Id)' })
  correlationId?: string;
}
