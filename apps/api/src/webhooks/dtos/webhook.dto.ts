import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Length, Matches } from 'class-validator';
import { AuditEventDto } from '../../audit/dtos/audit-event.dto.js';
import { Optional } from '../../controller-kit/optional.decorator.js';
import { WriteResponseDto } from '../../controller-kit/write-response.dto.js';

/*
 * Shapes only: whether the URL may be reached (https, no private address) is the TargetPolicy's
 * (422 `webhook-target-refused`), the URL's and the filters' own rules the decider's (422 `invalid-webhook`).
 */

const CURSOR = /^[0-9a-f]{16}-[0-9a-f]{16}$/;

export class RegisterWebhookDto {
  @ApiProperty({
    maxLength: 2000,
    example: 'https://hooks.example.com/dealstream',
    description:
      'Where events are POSTed. https only, and never to a loopback, private, link-local (cloud metadata) or reserved address — also after DNS resolution — unless WEBHOOK_ALLOWED_TARGETS names it (then http too)',
  })
  @IsString()
  @Length(1, 2000)
  url!: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    example: ['DealWon', 'DealLost'],
    description: 'Event types delivered (as on GET /events?type=); absent or empty = every type',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 100, { each: true })
  eventTypes?: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    example: ['deal'],
    description: 'Stream categories delivered (as on GET /events?category=); absent or empty = every category',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  categories?: string[];

  @ApiPropertyOptional({ maxLength: 500, example: 'Forecast sync (team data)' })
  @Optional()
  @IsString()
  @Length(0, 500)
  description?: string;
}

/** PATCH /webhooks/:id: the fields to change (at least one); absent fields stay as they are. */
export class ChangeWebhookDto {
  @ApiPropertyOptional({
    maxLength: 2000,
    example: 'https://hooks.example.com/dealstream/v2',
    description: 'A new target URL, under the same rules as on registration (checked again, also after DNS)',
  })
  @Optional()
  @IsString()
  @Length(1, 2000)
  url?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    example: ['DealWon'],
    description: 'The event types delivered from now on; empty = every type',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 100, { each: true })
  eventTypes?: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    example: ['deal'],
    description: 'The stream categories delivered from now on; empty = every category',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  categories?: string[];

  @ApiPropertyOptional({ maxLength: 500, example: 'Forecast sync (team data)' })
  @Optional()
  @IsString()
  @Length(0, 500)
  description?: string;
}

export class ResumeWebhookDto {
  @ApiPropertyOptional({
    example: '00000000000002f1-0000000000000017',
    description:
      'Replay from this feed cursor (a `position` or a feed `next`): every matching event after it is delivered again, with the same webhook-id as before. Absent: go on from the checkpoint (only for a paused subscription)',
  })
  @Optional()
  @IsString()
  @Matches(CURSOR, { message: 'fromPosition must be a feed cursor (16 hex digits, a dash, 16 hex digits)' })
  fromPosition?: string;
}

export class RegisteredWebhookDto extends WriteResponseDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The (new) signing secret (Standard Webhooks: `whsec_` + base64 of 32 bytes). Shown only in this answer (and in its Idempotency-Key replay); store it now',
  })
  secret!: string;
}

class WebhookDeliveryStateDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: '00000000000002f1-0000000000000017',
    description:
      'Feed cursor of the last event delivered (or passed by the filter); null until the worker took the subscription up',
  })
  checkpoint!: string | null;
  @ApiProperty({ description: 'Consecutive failed attempts on the event after the checkpoint' })
  failures!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'When the next attempt is due (backoff)',
  })
  nextAttemptAt!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'HTTP 500' })
  lastError!: string | null;
  @ApiProperty({ description: 'Events delivered so far (replays count again)' })
  delivered!: number;
  @ApiProperty({ description: 'Matching events after the checkpoint not yet delivered (counted up to 10,000)' })
  backlog!: number;
}

export class WebhookSubscriptionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ example: 'https://hooks.example.com/dealstream' })
  url!: string;
  @ApiProperty({ type: [String] })
  eventTypes!: string[];
  @ApiProperty({ type: [String] })
  categories!: string[];
  @ApiProperty()
  description!: string;
  @ApiProperty({ enum: ['active', 'paused'] })
  status!: 'active' | 'paused';
  @ApiProperty({
    enum: ['manual', 'failing'],
    nullable: true,
    type: String,
    description: '`failing`: paused by the worker after WEBHOOK_MAX_FAILURES consecutive failures or a 410 Gone',
  })
  pausedReason!: 'manual' | 'failing' | null;
  @ApiProperty({
    example: '16 hex digits',
    description: 'SHA-256 prefix of the secret (the secret is never shown again)',
  })
  secretFingerprint!: string;
  @ApiProperty({ example: '2', description: 'Revision of the subscription’s stream (its ETag)' })
  revision!: string;
  @ApiProperty({ type: WebhookDeliveryStateDto })
  delivery!: WebhookDeliveryStateDto;
}

export class WebhookSubscriptionListDto {
  @ApiProperty({ type: [WebhookSubscriptionDto], description: 'Every subscription not deleted, oldest first' })
  subscriptions!: WebhookSubscriptionDto[];
}

export class WebhookAttemptDto {
  @ApiProperty({ example: '42', description: 'Increasing; pass as before= to page further back' })
  attemptId!: string;
  @ApiProperty({
    format: 'uuid',
    description: 'The webhook-id header: the same on every retry and replay of this event',
  })
  webhookId!: string;
  @ApiProperty({ format: 'uuid' })
  eventId!: string;
  @ApiProperty()
  streamId!: string;
  @ApiProperty()
  eventType!: string;
  @ApiProperty({ description: 'The event’s feed position' })
  position!: string;
  @ApiProperty({ description: 'Try number of this event since it became the next to deliver (1 = first)' })
  attempt!: number;
  @ApiProperty({ enum: ['delivered', 'failed', 'timeout', 'refused-target'] })
  outcome!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'HTTP status of the answer (null: none)' })
  status!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'ECONNREFUSED' })
  error!: string | null;
  @ApiProperty()
  durationMs!: number;
  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KB of the answer' })
  responseExcerpt!: string | null;
  @ApiProperty({ format: 'date-time' })
  attemptedAt!: string;
}

export class WebhookAttemptPageDto {
  @ApiProperty({ type: [WebhookAttemptDto], description: 'Newest first' })
  attempts!: WebhookAttemptDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as before= for older attempts; null at the first' })
  next!: string | null;
}

export class WebhookAttemptQueryDto {
  @ApiPropertyOptional({ example: '42', description: 'Only attempts older than this attemptId' })
  @Optional()
  @IsString()
  @Matches(/^[1-9][0-9]{0,17}$/, { message: 'before must be an attemptId' })
  before?: string;

  @ApiPropertyOptional({ example: '100', description: '1–500, default 100' })
  @Optional()
  @IsString()
  @Matches(/^(?:[1-9][0-9]?|[1-4][0-9]{2}|500)$/, { message: 'limit must be 1–500' })
  limit?: string;
}

export class WebhookHistoryDto {
  @ApiProperty({ type: [AuditEventDto], description: 'Every event of the subscription’s stream, in order' })
  events!: AuditEventDto[];
}
