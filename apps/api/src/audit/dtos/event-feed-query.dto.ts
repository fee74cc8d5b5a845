import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, ValidateBy } from 'class-validator';
import { MAX_CLIENT_POSITION_PART, parseClientPosition } from '@dealstream/event-store';
import { Optional } from '../../controller-kit/optional.decorator.js';
import { IntegerQueryField, NameListQueryField } from './query-fields.js';

const MAX_FEED_LIMIT = 1000;
export const DEFAULT_FEED_LIMIT = 100;

export class EventFeedQueryDto {
  @ApiPropertyOptional({
    description: `Opaque cursor: the \`next\` of the previous page (or a write’s \`position\`); from the beginning when absent. Two 16-digit hex parts, each at most ${MAX_CLIENT_POSITION_PART.toString(16)} (2^63 − 1)`,
    example: '00000000000002f1-0000000000000017',
    pattern: '^[0-7][0-9a-f]{15}-[0-7][0-9a-f]{15}$',
  })
  @Optional()
  @IsString()
  @ValidateBy({
    name: 'isPositionCursor',
    validator: {
      validate: (value: unknown) => parseClientPosition(value) !== undefined,
      defaultMessage: () => 'after must be a cursor as returned in next (two hex parts, each below 2^63)',
    },
  })
  after?: string;

  @IntegerQueryField({
    min: 1n,
    max: BigInt(MAX_FEED_LIMIT),
    required: false,
    description: `Events per page, default ${DEFAULT_FEED_LIMIT}`,
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
