import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, ValidateBy } from 'class-validator';
import { MAX_CLIENT_POSITION_PART, parseClientPosition } from '@dealstream/event-store';
import { Optional } from '../controller-kit/optional.decorator.js';
import { IntegerQueryField, NameListQueryField } from '../audit/dtos/query-fields.js';

const MAX_STREAM_LIMIT = 1_000_000;

export class EventStreamQueryDto {
  @ApiPropertyOptional({
    description: `Start after this cursor: an event's \`id:\` on the stream, a \`next\` of GET /events or a write's \`position\`; from the beginning when absent. A \`Last-Event-ID\` header takes precedence (an EventSource reconnecting keeps its URL). Two 16-digit hex parts, each at most ${MAX_CLIENT_POSITION_PART.toString(16)} (2^63 − 1)`,
    example: '00000000000002f1-0000000000000017',
    pattern: '^[0-7][0-9a-f]{15}-[0-7][0-9a-f]{15}$',
  })
  @Optional()
  @IsString()
  @ValidateBy({
    name: 'isPositionCursor',
    validator: {
      validate: (value: unknown) => parseClientPosition(value) !== undefined,
      defaultMessage: () => 'after must be a cursor as returned in next or id: (two hex parts, each below 2^63)',
    },
  })
  after?: string;

  @IntegerQueryField({
    min: 1n,
    max: BigInt(MAX_STREAM_LIMIT),
    required: false,
    description: 'End the stream after this many events (for bounded reads); unbounded when absent',
  })
  limit?: string;

  @NameListQueryField({
    description: 'Only these event types',
    example: 'DealWon,DealLost',
    pattern: /[A-Za-z0-9_.:]{1,100}/,
  })
  type?: string;

  @NameListQueryField({
    description: 'Only streams of these categories (the stream id before its first -)',
    example: 'deal',
    pattern: /[A-Za-z0-9_.:]{1,100}/,
  })
  category?: string;
}
