import { Body, Controller, HttpCode, Param, Patch, Post, Req, Res } from '@nestjs/common';
import { CommandBus, type Command } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { randomUUID } from 'node:crypto';
import { derivedId, type CommandContext, type WriteResult } from '@dealstream/command-handling';
import {
  CreateDealCommand,
  DisqualifyDealCommand,
  LogActivityCommand,
  LoseDealCommand,
  MoveDealCommand,
  OpenFollowOnDealCommand,
  QualifyDealCommand,
  ReopenDealCommand,
  UpdateDealCommand,
  WinDealCommand,
} from '@dealstream/deals-application';
import { dealErrorKinds, type FollowOnKind } from '@dealstream/deals-domain';
import { pipelineErrorKinds } from '@dealstream/pipelines-domain';
import { ApiWrite } from '../controller-kit/api-docs.decorators.js';
import { commandContextOf } from '../controller-kit/command-context.factory.js';
import { UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { writeResponse } from '../controller-kit/write-result.js';
import { ActivityLoggedResponseDto, FollowOnResponseDto } from '../controller-kit/write-response.dto.js';
import { ApiProblem } from '../problem/api-problem.js';
import { domainProblems, mergeProblems } from '../problem/problem-catalogue.js';
import {
  CreateDealDto,
  DisqualifyDealDto,
  FollowOnDealDto,
  LogActivityDto,
  LoseDealDto,
  MoveDealDto,
  QualifyDealDto,
  ReopenDealDto,
  UpdateDealDto,
  WinDealDto,
} from './dtos/deal-commands.dto.js';

/**
 * What the deal deciders can refuse (409/422 by kind), and `unknown-pipeline` from the pipeline
 * snapshot a deal command checks against.
 */
const DEAL_DOMAIN = mergeProblems(
  domainProblems(dealErrorKinds),
  domainProblems({ 'unknown-pipeline': pipelineErrorKinds['unknown-pipeline'] }),
);
/** A command on an existing deal, addressed by its id. */
const ON_A_DEAL = mergeProblems(DEAL_DOMAIN, { 404: ['deal-not-found'] });
/** Opening an up- or cross-sell on a won deal: If-Match does not apply. */
const FOLLOW_ON = mergeProblems(ON_A_DEAL, { 400: ['if-match-not-supported'] });

/** Deal writes. Needs role sales, ops or admin; the actor on every event is the token's subject. */
@ApiTags('deals')
@Controller('deals')
export class DealsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiWrite({ summary: 'Create a deal in a pipeline stage', status: 201, problems: DEAL_DOMAIN, conditional: false })
  async create(
    @Body() body: CreateDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const { id: requestedId, pipelineId, stageId, ...fields } = body;
    const id = newId(requestedId, context, 'deal');
    const input = {
      ...fields,
      pipelineId: pipelineId.toLowerCase(),
      ...(stageId ? { stageId: stageId.toLowerCase() } : {}),
    };
    const result = await this.commands.execute(new CreateDealCommand(id, input, context));
    response.header('Location', `/deals/${id}`);
    return writeResponse(response, id, result);
  }

  @Patch(':id')
  @ApiWrite({
    summary: 'Change the amount, owner or expected close date',
    problems: mergeProblems(ON_A_DEAL, { 400: ['empty-patch'] }),
  })
  async update(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: UpdateDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    if (
      body.amount === undefined &&
      body.currency === undefined &&
      body.ownerId === undefined &&
      body.expectedCloseDate === undefined
    ) {
      throw new ApiProblem(400, 'empty-patch', 'Send at least one of amount, currency, ownerId, expectedCloseDate');
    }
    return this.run(id, request, response, (context) => new UpdateDealCommand(id, body, context));
  }

  @Post(':id/qualify')
  @HttpCode(200)
  @ApiWrite({ summary: 'Qualify with BANT (budget, authority and need must be confirmed)', problems: ON_A_DEAL })
  qualify(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: QualifyDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.run(
      id,
      request,
      response,
      (context) =>
        new QualifyDealCommand(
          id,
          {
            budget: { ...body.budget },
            authority: { ...body.authority },
            need: { ...body.need },
            timeline: { ...body.timeline },
          },
          context,
        ),
    );
  }

  @Post(':id/disqualify')
  @HttpCode(200)
  @ApiWrite({ summary: 'Disqualify (no budget, no authority, …): a normal closed outcome', problems: ON_A_DEAL })
  disqualify(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: DisqualifyDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.run(id, request, response, (context) => new DisqualifyDealCommand(id, body, context));
  }

  @Post(':id/stage')
  @HttpCode(200)
  @ApiWrite({ summary: 'Move to any live stage of its pipeline, forward or back', problems: ON_A_DEAL })
  move(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: MoveDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.run(id, request, response, (context) => new MoveDealCommand(id, body.toStageId.toLowerCase(), context));
  }

  @Post(':id/activities')
  @HttpCode(201)
  @ApiWrite({
    summary: 'Log a call, email, meeting, social touch or note (also on closed deals)',
    status: 201,
    problems: ON_A_DEAL,
    type: ActivityLoggedResponseDto,
  })
  async logActivity(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: LogActivityDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const { id: requestedId, ...fields } = body;
    const activityId = newId(requestedId, context, 'activity');
    const result = await this.commands.execute(new LogActivityCommand(id, { ...fields, activityId }, context));
    return { ...writeResponse(response, id, result), activityId };
  }

  @Post(':id/win')
  @HttpCode(200)
  @ApiWrite({ summary: 'Win the deal (optionally at a final amount)', problems: ON_A_DEAL })
  win(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: WinDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.run(id, request, response, (context) => new WinDealCommand(id, body, context));
  }

  @Post(':id/lose')
  @HttpCode(200)
  @ApiWrite({ summary: 'Lose the deal, with a reason and optionally the competitor', problems: ON_A_DEAL })
  lose(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: LoseDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.run(id, request, response, (context) => new LoseDealCommand(id, body, context));
  }

  @Post(':id/reopen')
  @HttpCode(200)
  @ApiWrite({ summary: 'Reopen a lost or disqualified deal (won deals get up-sells instead)', problems: ON_A_DEAL })
  reopen(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: ReopenDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.run(
      id,
      request,
      response,
      (context) => new ReopenDealCommand(id, body.toStageId?.toLowerCase(), context),
    );
  }

  @Post(':id/upsell')
  @HttpCode(201)
  @ApiWrite({
    summary: 'Open an up-sell deal linked to this won deal',
    status: 201,
    problems: FOLLOW_ON,
    conditional: false,
    type: FollowOnResponseDto,
  })
  upsell(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: FollowOnDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.followOn('upsell', id, body, request, response);
  }

  @Post(':id/cross-sell')
  @HttpCode(201)
  @ApiWrite({
    summary: 'Open a cross-sell deal linked to this won deal',
    status: 201,
    problems: FOLLOW_ON,
    conditional: false,
    type: FollowOnResponseDto,
  })
  crossSell(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: FollowOnDealDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    return this.followOn('cross-sell', id, body, request, response);
  }

  private async followOn(
    kind: FollowOnKind,
    parentId: string,
    body: FollowOnDealDto,
    request: HttpRequest,
    response: HttpReply,
  ) {
    const context = commandContextOf(request);
    if (context.ifMatchRevision !== undefined)
      throw new ApiProblem(400, 'if-match-not-supported', 'If-Match does not apply to creating a follow-on deal');
    const { id: requestedId, pipelineId, stageId, ...fields } = body;
    const id = newId(requestedId, context, kind);
    const input = {
      ...fields,
      ...(pipelineId ? { pipelineId: pipelineId.toLowerCase() } : {}),
      ...(stageId ? { stageId: stageId.toLowerCase() } : {}),
    };
    const result = await this.commands.execute(new OpenFollowOnDealCommand(parentId, id, kind, input, context));
    response.header('Location', `/deals/${id}`);
    return { ...writeResponse(response, id, result), parentDealId: parentId };
  }

  private async run(
    id: string,
    request: HttpRequest,
    response: HttpReply,
    command: (context: CommandContext) => Command<WriteResult>,
  ) {
    const result = await this.commands.execute(command(commandContextOf(request)));
    return writeResponse(response, id, result);
  }
}

function newId(requested: string | undefined, context: CommandContext, kind: string): string {
  return requested?.toLowerCase() ?? derivedId(context, kind) ?? randomUUID();
}
