import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { parseClientPosition } from '@dealstream/event-store';
import { ApiProblemResponses } from '../controller-kit/api-docs.decorators.js';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { nameList } from '../audit/dtos/query-fields.js';
import { ApiProblem } from '../problem/api-problem.js';
import { AUTHENTICATED, VALIDATED, mergeProblems } from '../problem/problem-catalogue.js';
import { EventStreamQueryDto } from './event-stream-query.dto.js';
import { EventStreamService } from './event-stream.service.js';
import { StreamSlots } from './stream-slots.js';

const STREAM_DESCRIPTION = [
  'The global event feed of GET /events as Server-Sent Events (`text/event-stream`), live: every event once, in the feed order, never one that commits late skipped.',
  'Each event is `id: <cursor>` and one `data:` line with the same JSON as an item of GET /events (no `event:` field, so an EventSource delivers it to `onmessage`).',
  'Resume after a disconnect with the `Last-Event-ID` header (EventSource sends it) or `?after=<cursor>`: no gap, no duplicate.',
  'A comment line `: heartbeat` every EVENTS_STREAM_HEARTBEAT_MS (15 s); the stream ends after EVENTS_STREAM_MAX_LIFETIME_MS (1 h) or when the token expires, whichever is first — reconnect (with a fresh token) and Last-Event-ID.',
  'At most EVENTS_STREAM_MAX_PER_TOKEN (5) open streams per token on one API instance: 429 `too-many-streams` beyond.',
].join(' ');

/** `GET /events/stream`: thin; the stream itself is EventStreamService. */
@ApiTags('audit')
@Controller('events')
export class EventStreamController {
  constructor(private readonly streams: EventStreamService) {}

  @Get('stream')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'The event feed live, as Server-Sent Events, resumable with Last-Event-ID',
    description: STREAM_DESCRIPTION,
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The `id:` of the last event received: the stream continues after it (takes precedence over `after`)',
    schema: { type: 'string', pattern: '^[0-7][0-9a-f]{15}-[0-7][0-9a-f]{15}$' },
  })
  @ApiResponse({
    status: 200,
    description:
      'The stream: `retry:`, then events (`id:`, `data:`) and heartbeat comments, until the client closes it, `limit` events were sent or the lifetime ends',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiProblemResponses(
    mergeProblems(AUTHENTICATED, VALIDATED, {
      400: ['invalid-last-event-id'],
      429: ['too-many-streams'],
      503: ['event-store-unavailable', 'database-timeout', 'database-unavailable'],
    }),
    {
      400: 'A malformed `after`, `limit`, `type`, `category` or `Last-Event-ID` (`validation-failed`, `invalid-last-event-id`)',
      403: 'The token lacks a role this route needs (`forbidden`); the roles are in `x-roles` and the README role matrix',
      429: 'This token holds EVENTS_STREAM_MAX_PER_TOKEN open streams on this instance (`too-many-streams`, with Retry-After)',
      503: 'The event store or the database did not answer before the stream opened (with Retry-After)',
    },
  )
  async stream(
    @Query() query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: HttpRequest,
    @Res() reply: HttpReply,
  ): Promise<void> {
    const resumeFrom = lastEventId === undefined ? query.after : lastEventId;
    const after = resumeFrom === undefined ? undefined : parseClientPosition(resumeFrom);
    if (resumeFrom !== undefined && !after)
      throw new ApiProblem(
        400,
        'invalid-last-event-id',
        'Last-Event-ID must be an id: this stream sent (two hex parts, each below 2^63)',
      );
    const eventTypes = nameList(query.type);
    const streamCategories = nameList(query.category);
    // The stream is written to the Node response; Fastify lets go of it once the stream opens.
    await this.streams.serve(request.raw, reply.raw, {
      // The guard accepted the header: `Bearer <token>`.
      tokenKey: StreamSlots.keyOf(request.headers.authorization ?? ''),
      after,
      filter: { ...(eventTypes ? { eventTypes } : {}), ...(streamCategories ? { streamCategories } : {}) },
      limit: query.limit === undefined ? undefined : Number(query.limit),
      expiresAtMs: request.principal?.expiresAt === undefined ? undefined : request.principal.expiresAt * 1000,
      onOpen: () => {
        reply.hijack();
      },
    });
  }
}
