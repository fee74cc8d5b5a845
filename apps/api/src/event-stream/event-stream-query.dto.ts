import {
  EventTypesQueryField,
  IntegerQueryField,
  PositionCursorQueryField,
  StreamCategoriesQueryField,
} from '../audit/dtos/query-fields.js';

const MAX_STREAM_LIMIT = 1_000_000;

export class EventStreamQueryDto {
  @PositionCursorQueryField({
    description:
      "Start after this cursor: an event's `id:` on the stream, a `next` of GET /events or a write's `position`; from the beginning when absent. A `Last-Event-ID` header takes precedence (an EventSource reconnecting keeps its URL).",
    accepted: 'next or id:',
  })
  after?: string;

  @IntegerQueryField({
    min: 1n,
    max: BigInt(MAX_STREAM_LIMIT),
    required: false,
    description: 'End the stream after this many events (for bounded reads); unbounded when absent',
  })
  limit?: string;

  @EventTypesQueryField()
  type?: string;

  @StreamCategoriesQueryField()
  category?: string;
}
