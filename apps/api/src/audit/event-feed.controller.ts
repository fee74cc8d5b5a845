import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { decodePosition, encodePosition, type EventStore } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';
import { toEventView } from '@dealstream/audit';
import type { HttpReply } from '../controller-kit/http-exchange.js';
import { ApiAuditRead } from './audit-docs.decorators.js';
import { nameList } from './dtos/query-fields.js';
import { DEFAULT_FEED_LIMIT, EventFeedQueryDto } from './dtos/event-feed-query.dto.js';
import { EventFeedPageDto } from './dtos/audit-responses.dto.js';

/**
 * The global event feed for backend consumers. Served lean (controller-kit/lean-routes.ts: the guard,
 * the query's validation and this method, without Nest's per-request layers), like the command routes. `EventStore.readAll` returns only events that can
 * no longer be overtaken by a later commit (docs/event-store.md), so paging with `next` never skips
 * or repeats one — the same rule the projections rely on.
 */
@ApiTags('audit')
@Controller('events')
export class EventFeedController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get()
  @ApiAuditRead({
    summary: 'Every event in global order after a cursor, optionally of some types or stream categories',
    type: EventFeedPageDto,
    problems: {},
  })
  async feed(
    @Query() query: EventFeedQueryDto,
    @Res({ passthrough: true }) reply: HttpReply,
  ): Promise<string | EventFeedPageDto> {
    const eventTypes = nameList(query.type);
    const streamCategories = nameList(query.category);
    const options = {
      after: query.after === undefined ? undefined : decodePosition(query.after),
      limit: query.limit === undefined ? DEFAULT_FEED_LIMIT : Number(query.limit),
      filter: { ...(eventTypes ? { eventTypes } : {}), ...(streamCategories ? { streamCategories } : {}) },
    };
    // The SQL store writes the page's JSON from the rows' text: it is sent as it comes (a string with a
    // JSON type is not serialised again), no view objects built and serialised.
    const page = await this.store.readAllJson?.(options);
    if (page) {
      reply.type('application/json; charset=utf-8');
      return `{"events":[${page.eventsJson}],"next":${JSON.stringify(encodePosition(page.cursor))}}`;
    }
    const batch = await this.store.readAll(options);
    return { events: batch.events.map((event) => toEventView(event)), next: encodePosition(batch.cursor) };
  }
}
