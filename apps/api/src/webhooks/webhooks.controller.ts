import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { toEventView } from '@dealstream/audit';
import { parseClientPosition } from '@dealstream/event-store';
import { webhookErrorKinds } from '@dealstream/webhooks-domain';
import { ApiRead, ApiWrite } from '../controller-kit/api-docs.decorators.js';
import { commandContextOf } from '../controller-kit/command-context.factory.js';
import { UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { writeResponse } from '../controller-kit/write-result.js';
import { ApiProblem } from '../problem/api-problem.js';
import { DATABASE_FAULTS, domainProblems, mergeProblems } from '../problem/problem-catalogue.js';
import {
  ChangeWebhookDto,
  RegisterWebhookDto,
  RegisteredWebhookDto,
  ResumeWebhookDto,
  WebhookAttemptPageDto,
  WebhookAttemptQueryDto,
  WebhookHistoryDto,
  WebhookSubscriptionDto,
  WebhookSubscriptionListDto,
} from './dtos/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

const REFUSED =
  '422 `webhook-target-refused` (details.reason `scheme`, `address` or `unresolvable`) when the URL is not https, or its host is or resolves to a loopback, private, link-local (cloud metadata), CGNAT or reserved address, unless WEBHOOK_ALLOWED_TARGETS names it; 422 `invalid-webhook` for a URL or filter that breaks its own rules (details.problems).';

/**
 * Webhook subscriptions (Standard Webhooks), event-sourced in streams `webhook-<id>`; the delivery
 * worker (libs/webhooks/delivery) POSTs every matching event in global order. docs/webhooks.md.
 */
/** What the subscription decider can refuse (409/422 by kind). */
const WEBHOOK_DOMAIN = domainProblems(webhookErrorKinds);
/** A command on an existing subscription, addressed by its id. */
const ON_A_WEBHOOK = mergeProblems(WEBHOOK_DOMAIN, { 404: ['webhook-not-found'] });
/** A read of one subscription: its row, attempts or stream. */
const WEBHOOK_READ = mergeProblems(DATABASE_FAULTS, {
  404: ['webhook-not-found'],
  503: ['event-store-unavailable'],
});

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @ApiWrite({
    summary:
      'Register a webhook subscription: its URL, the event types and categories it receives; answers the secret once',
    description: `Records WebhookSubscriptionRegistered in stream webhook-<id>. Delivery starts with the events after this one. ${REFUSED}`,
    status: 201,
    type: RegisteredWebhookDto,
    problems: mergeProblems(WEBHOOK_DOMAIN, { 422: ['webhook-target-refused'] }),
    conditional: false,
  })
  async register(
    @Body() body: RegisterWebhookDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ): Promise<RegisteredWebhookDto> {
    const context = commandContextOf(request);
    const { id, secret, result } = await this.webhooks.register(
      {
        url: body.url,
        eventTypes: body.eventTypes ?? [],
        categories: body.categories ?? [],
        description: body.description ?? '',
      },
      context,
    );
    response.header('Location', `/webhooks/${id}`);
    return { ...writeResponse(response, id, result), secret };
  }

  @Patch(':id')
  @ApiWrite({
    summary: 'Change a subscription in place: its URL, event types, categories or description',
    description:
      'Records WebhookSubscriptionChanged with the fields that differ (nothing when none does). Applies from the next delivery: the secret, the checkpoint and a pause stay; events already passed are not looked at again under the new filters (replay them with resume fromPosition). A new URL is checked as on registration. 400 `empty-patch` without any field; 409 `webhook-deleted`.',
    problems: mergeProblems(ON_A_WEBHOOK, { 400: ['empty-patch'], 422: ['webhook-target-refused'] }),
  })
  async change(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: ChangeWebhookDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const changes = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
    if (Object.keys(changes).length === 0)
      throw new ApiProblem(400, 'empty-patch', 'Send at least one of url, eventTypes, categories, description');
    const result = await this.webhooks.change(id, changes, commandContextOf(request));
    return writeResponse(response, id, result);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiWrite({
    summary: 'Pause a subscription: no delivery until it is resumed',
    description:
      'Records WebhookSubscriptionPaused (reason `manual`). 409 `webhook-already-paused`, `webhook-deleted`.',
    problems: ON_A_WEBHOOK,
  })
  async pause(
    @Param('id', UuidParamPipe) id: string,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.webhooks.decide(
      id,
      { type: 'PauseWebhook', data: { reason: 'manual', failures: 0, lastError: null } },
      context,
    );
    return writeResponse(response, id, result);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiWrite({
    summary: 'Resume a paused subscription, or replay it from a feed cursor',
    description:
      'Records WebhookSubscriptionResumed; the failure count starts again. With `fromPosition` the checkpoint is rewound there: every matching event after it is delivered again, in order, with its same webhook-id (receivers dedupe by it). 409 `webhook-not-paused` without fromPosition on an active subscription; 400 `invalid-cursor` for a cursor beyond the range.',
    problems: mergeProblems(ON_A_WEBHOOK, { 400: ['invalid-cursor'] }),
  })
  async resume(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: ResumeWebhookDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    if (body.fromPosition !== undefined && !parseClientPosition(body.fromPosition))
      throw new ApiProblem(400, 'invalid-cursor', 'fromPosition is not a feed cursor this API issued');
    const context = commandContextOf(request);
    const result = await this.webhooks.decide(
      id,
      { type: 'ResumeWebhook', data: { fromPosition: body.fromPosition ?? null } },
      context,
    );
    return writeResponse(response, id, result);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiWrite({
    summary: 'Rotate the signing secret: answers the new one once; the old one keeps signing for 24 h',
    description:
      'Records WebhookSecretRotated (its id and fingerprint, never the secret). For 24 hours every POST carries one signature per secret (space-separated `v1,…` entries, as Standard Webhooks allows), so a receiver can switch keys without missing a request. 409 `webhook-deleted`.',
    type: RegisteredWebhookDto,
    problems: ON_A_WEBHOOK,
  })
  async rotateSecret(
    @Param('id', UuidParamPipe) id: string,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ): Promise<RegisteredWebhookDto> {
    const context = commandContextOf(request);
    const { secret, result } = await this.webhooks.rotateSecret(id, context);
    return { ...writeResponse(response, id, result), secret };
  }

  @Delete(':id')
  @ApiWrite({
    summary: 'Delete a subscription: delivery stops, its secret is erased, its stream stays',
    description: 'Records WebhookSubscriptionDeleted. 409 `webhook-deleted` twice.',
    problems: ON_A_WEBHOOK,
  })
  async remove(
    @Param('id', UuidParamPipe) id: string,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.webhooks.delete(id, context);
    return writeResponse(response, id, result);
  }

  @Get()
  @ApiRead({
    summary: 'Every webhook subscription (not deleted) with its delivery state',
    type: WebhookSubscriptionListDto,
    readModels: false,
    problems: DATABASE_FAULTS,
  })
  async list(): Promise<WebhookSubscriptionListDto> {
    return { subscriptions: await this.webhooks.list() };
  }

  @Get(':id')
  @ApiRead({
    summary: 'A webhook subscription: filters, status, checkpoint, failures, backlog (never the secret)',
    type: WebhookSubscriptionDto,
    readModels: false,
    problems: WEBHOOK_READ,
  })
  async show(@Param('id', UuidParamPipe) id: string, @Res({ passthrough: true }) response: HttpReply) {
    const view = await this.webhooks.show(id);
    response.header('ETag', `"${view.revision}"`);
    return view;
  }

  @Get(':id/attempts')
  @ApiRead({
    summary: 'Delivery attempts of a subscription, newest first',
    description:
      'One row per POST: webhook-id, event, try number, outcome, HTTP status or error, duration, the first 1 KB of the answer.',
    type: WebhookAttemptPageDto,
    readModels: false,
    problems: WEBHOOK_READ,
  })
  async attempts(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: WebhookAttemptQueryDto,
  ): Promise<WebhookAttemptPageDto> {
    return this.webhooks.attempts(id, query.before, query.limit === undefined ? 100 : Number(query.limit));
  }

  @Get(':id/history')
  @ApiRead({
    summary: 'The subscription’s stream: who registered, paused, resumed (replayed) or deleted it, and when',
    type: WebhookHistoryDto,
    readModels: false,
    problems: WEBHOOK_READ,
  })
  async history(@Param('id', UuidParamPipe) id: string): Promise<WebhookHistoryDto> {
    return { events: (await this.webhooks.history(id)).map((event) => toEventView(event)) };
  }
}
