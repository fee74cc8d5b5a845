import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class HealthCheckDto {
  @ApiProperty({ enum: ['ok', 'failed', 'timeout', 'skipped'] })
  status!: string;
  @ApiPropertyOptional({ description: 'Why the check failed (admins only)' })
  error?: string;
}

class DatabaseCheckDto extends HealthCheckDto {
  @ApiPropertyOptional({ type: 'integer', description: 'How long `select now()` took' })
  latencyMs?: number;
}

class ProjectionsCheckDto extends HealthCheckDto {
  @ApiPropertyOptional({ description: "The live read models' checkpoint (cursor)" })
  checkpoint?: string;
  @ApiPropertyOptional({ description: 'Events wait to be projected' })
  pending?: boolean;
  @ApiPropertyOptional({ type: 'integer', description: 'Age of the oldest event not yet projected' })
  lagMs?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'READY_MAX_LAG_MS' })
  maxLagMs?: number;
}

class LeaderHolderDto {
  @ApiProperty({ type: 'integer' })
  pid!: number;
  @ApiProperty({ type: 'string', nullable: true })
  applicationName!: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  clientAddress!: string | null;
}

class LeaderCheckDto extends HealthCheckDto {
  @ApiPropertyOptional({ description: 'Some runner holds the projection lock' })
  known?: boolean;
  @ApiPropertyOptional({
    enum: ['starting', 'active', 'standby', 'reconnecting', 'stopped', 'external'],
    description: "This instance's runner role (external: projections run in apps/projector)",
  })
  thisInstance?: string;
  @ApiPropertyOptional({ type: LeaderHolderDto, description: 'The session holding the projection lock' })
  holder?: LeaderHolderDto;
}

class WebhooksCheckDto extends HealthCheckDto {
  @ApiPropertyOptional({
    type: 'integer',
    description: 'Largest backlog among subscriptions (counted up to the bound + 1)',
  })
  backlog?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'WEBHOOK_READY_MAX_BACKLOG' })
  maxBacklog?: number;
}

class HealthChecksDto {
  @ApiProperty({ type: DatabaseCheckDto })
  database!: DatabaseCheckDto;
  @ApiProperty({ type: HealthCheckDto })
  writes!: HealthCheckDto;
  @ApiProperty({ type: ProjectionsCheckDto })
  projections!: ProjectionsCheckDto;
  @ApiProperty({ type: LeaderCheckDto })
  leader!: LeaderCheckDto;
  @ApiProperty({ type: WebhooksCheckDto, description: 'skipped unless WEBHOOK_READY_MAX_BACKLOG is set' })
  webhooks!: WebhooksCheckDto;
}

class ProjectionsStatusDto {
  @ApiProperty({ enum: ['in-process', 'external'] })
  mode!: string;
  @ApiPropertyOptional({
    enum: ['starting', 'active', 'standby', 'reconnecting', 'stopped'],
    description: "This instance's runner: active holds the projection lock",
  })
  role?: string;
  @ApiPropertyOptional({ type: 'string', nullable: true, description: 'Last projected global position (cursor)' })
  position?: string | null;
  @ApiPropertyOptional({ type: 'string', nullable: true })
  lastError?: string | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Catch-up subscription state (EventStoreDB only)',
  })
  subscription?: Record<string, unknown>;
}

class ParkedStreamSummaryDto {
  @ApiProperty()
  streamId!: string;
  @ApiProperty({ description: 'Revision of the event that could not be projected' })
  revision!: string;
  @ApiProperty()
  eventType!: string;
  @ApiProperty()
  error!: string;
  @ApiProperty({ type: 'string', nullable: true, description: 'SQLSTATE, when the database refused it' })
  errorCode!: string | null;
  @ApiProperty({ type: 'integer' })
  eventsWaiting!: number;
  @ApiProperty({ format: 'date-time' })
  parkedAt!: string;
}

class ParkedDto {
  @ApiProperty({ type: 'integer' })
  count!: number;
  @ApiProperty({ type: [ParkedStreamSummaryDto], description: 'The first 20' })
  streams!: ParkedStreamSummaryDto[];
}

/** What the health routes answer: `{status}` for everyone; the rest for admin tokens only. */
export class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded', 'unavailable'] })
  status!: string;
  @ApiPropertyOptional({ enum: ['postgres', 'pglite'], description: 'Admins only' })
  database?: string;
  @ApiPropertyOptional({ type: ProjectionsStatusDto, description: 'Admins only' })
  projections?: ProjectionsStatusDto;
  @ApiPropertyOptional({ type: HealthChecksDto, description: 'Admins only' })
  checks?: HealthChecksDto;
  @ApiPropertyOptional({ type: 'integer', description: 'How long the probe took (admins only)' })
  tookMs?: number;
  @ApiPropertyOptional({
    type: ParkedDto,
    description: 'Streams held back by a poison event (GET /health, admins only)',
  })
  parked?: ParkedDto;
}
