import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One thing an import did not write, and where in the input (docs/import.md). */
export class ImportRefusalDto {
  @ApiProperty({
    enum: ['deal', 'pipeline', 'line'],
    description: 'Refused as a whole: a deal, a pipeline, or a line of neither',
  })
  subject!: 'deal' | 'pipeline' | 'line';
  @ApiPropertyOptional({ example: 'OPP-4', description: 'The source id of the deal or pipeline' })
  sourceId?: string;
  @ApiProperty({ example: 'body' })
  file!: string;
  @ApiProperty({ example: 12, description: '1-based line of the input' })
  line!: number;
  @ApiProperty({ example: 'deal-closed', description: 'A domain error code or an import code (docs/import.md)' })
  code!: string;
  @ApiProperty()
  reason!: string;
}

class ImportCountsDto {
  @ApiProperty()
  imported!: number;
  @ApiProperty({ description: 'Everything was already there' })
  unchanged!: number;
  @ApiProperty()
  refused!: number;
}

class ImportEventsDto {
  @ApiProperty({ description: 'Events appended' })
  appended!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { DealCreated: 7, StageAdvanced: 6 },
    description: 'Events appended, by type',
  })
  byType!: Record<string, number>;
}

/** The report of a finished import: the CLI's `--json` answer. */
export class ImportReportDto {
  @ApiProperty()
  importId!: string;
  @ApiProperty({ type: 'string', nullable: true, example: 'acme-crm' })
  sourceSystem!: string | null;
  @ApiProperty()
  dryRun!: boolean;
  @ApiProperty({ description: 'Records read (blank lines not counted)' })
  records!: number;
  @ApiProperty({ type: ImportCountsDto })
  pipelines!: ImportCountsDto;
  @ApiProperty({ type: ImportCountsDto })
  deals!: ImportCountsDto;
  @ApiProperty({ type: ImportEventsDto })
  events!: ImportEventsDto;
  @ApiProperty({ type: [ImportRefusalDto] })
  refusals!: ImportRefusalDto[];
}

class ImportProgressDto {
  @ApiProperty()
  records!: number;
  @ApiProperty()
  deals!: number;
  @ApiProperty()
  events!: number;
}

/** An import started by `POST /imports`, as `GET /imports/{id}` answers it. */
export class ImportJobDto {
  @ApiProperty({ format: 'uuid' })
  importId!: string;
  @ApiProperty({ enum: ['running', 'done', 'failed'] })
  status!: 'running' | 'done' | 'failed';
  @ApiProperty({ description: 'The principal who started it (token sub): actorId of every event it writes' })
  actorId!: string;
  @ApiProperty({ format: 'date-time' })
  startedAt!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  finishedAt!: string | null;
  @ApiProperty({ type: ImportProgressDto })
  progress!: ImportProgressDto;
  @ApiProperty({ type: ImportReportDto, nullable: true, description: 'When done' })
  report!: ImportReportDto | null;
  @ApiProperty({ type: 'string', nullable: true, description: 'When failed: why it stopped' })
  error!: string | null;
}
