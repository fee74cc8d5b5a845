import {
  EventTypesQueryField,
  IntegerQueryField,
  PositionCursorQueryField,
  StreamCategoriesQueryField,
} from './query-fields.js';

const MAX_FEED_LIMIT = 1000;
export const DEFAULT_FEED_LIMIT = 100;

export class EventFeedQueryDto {
  @PositionCursorQueryField({
    description:
      'Opaque cursor: the `next` of the previous page (or a write’s `position`); from the beginning when absent.',
    accepted: 'next',
  })
  after?: string;

  @IntegerQueryField({
    min: 1n,
    max: BigInt(MAX_FEED_LIMIT),
    required: false,
    description: `Events per page, default ${DEFAULT_FEED_LIMIT}`,
  })
  limit?: string;

  @EventTypesQueryField()
  type?: string;

  @StreamCategoriesQueryField()
  category?: string;
}
