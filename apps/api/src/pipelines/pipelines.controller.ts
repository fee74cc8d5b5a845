import { Body, Controller, Delete, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { randomUUID } from 'node:crypto';
import { derivedId, type CommandContext } from '@dealstream/command-handling';
import { pipelineErrorKinds } from '@dealstream/pipelines-domain';
import {
  AddStageCommand,
  ArchivePipelineCommand,
  DefinePipelineCommand,
  RemoveStageCommand,
  ReorderStagesCommand,
  UpdateStageCommand,
  type StageInput,
} from '@dealstream/pipelines-application';
import { ApiWrite } from '../controller-kit/api-docs.decorators.js';
import { commandContextOf } from '../controller-kit/command-context.factory.js';
import { UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { writeResponse } from '../controller-kit/write-result.js';
import { StageAddedResponseDto } from '../controller-kit/write-response.dto.js';
import { ApiProblem } from '../problem/api-problem.js';
import { domainProblems, mergeProblems } from '../problem/problem-catalogue.js';
import {
  AddStageDto,
  DefinePipelineDto,
  RemoveStageQueryDto,
  ReorderStagesDto,
  UpdateStageDto,
} from './dtos/pipeline-commands.dto.js';
import type { StageDto } from './dtos/stage.dto.js';

/** What the pipeline decider can refuse (409/422 by kind). */
const PIPELINE_DOMAIN = domainProblems(pipelineErrorKinds);
/** A command on an existing pipeline, addressed by its id. */
const ON_A_PIPELINE = mergeProblems(PIPELINE_DOMAIN, { 404: ['pipeline-not-found'] });

/** Pipeline definition: stages, probabilities, goals. Needs role ops or admin. */
@ApiTags('pipelines')
@Controller('pipelines')
export class PipelinesController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiWrite({
    summary: 'Define a pipeline with its ordered stages',
    status: 201,
    problems: PIPELINE_DOMAIN,
    conditional: false,
  })
  async define(
    @Body() body: DefinePipelineDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const id = body.id ?? derivedId(context, 'pipeline') ?? randomUUID();
    const stages = body.stages.map((stage, index) => stageInput(stage, context, `stage-${index}`));
    const result = await this.commands.execute(
      new DefinePipelineCommand(id, { name: body.name, currency: body.currency, stages }, context),
    );
    response.header('Location', `/pipelines/${id}`);
    return writeResponse(response, id, result);
  }

  @Post(':id/stages')
  @HttpCode(201)
  @ApiWrite({
    summary: 'Add a stage (last, or at `index`)',
    status: 201,
    problems: ON_A_PIPELINE,
    type: StageAddedResponseDto,
  })
  async addStage(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: AddStageDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const stage = stageInput(body, context, 'stage');
    const result = await this.commands.execute(
      new AddStageCommand(id, { stage, ...(body.index !== undefined ? { index: body.index } : {}) }, context),
    );
    return { ...writeResponse(response, id, result), stageId: stage.stageId };
  }

  @Patch(':id/stages/:stageId')
  @ApiWrite({
    summary: 'Rename a stage, change its probability or set its goal',
    problems: mergeProblems(ON_A_PIPELINE, { 400: ['empty-patch'] }),
  })
  async updateStage(
    @Param('id', UuidParamPipe) id: string,
    @Param('stageId', UuidParamPipe) stageId: string,
    @Body() body: UpdateStageDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    if (body.name === undefined && body.probability === undefined && body.goal === undefined) {
      throw new ApiProblem(400, 'empty-patch', 'Send at least one of name, probability, goal');
    }
    const context = commandContextOf(request);
    const result = await this.commands.execute(new UpdateStageCommand(id, stageId, body, context));
    return writeResponse(response, id, result);
  }

  @Post(':id/stages/reorder')
  @HttpCode(200)
  @ApiWrite({
    summary: 'Reorder the stages (send every current stage id in the new order)',
    problems: ON_A_PIPELINE,
  })
  async reorder(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: ReorderStagesDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.commands.execute(
      new ReorderStagesCommand(
        id,
        body.stageIds.map((s) => s.toLowerCase()),
        context,
      ),
    );
    return writeResponse(response, id, result);
  }

  @Delete(':id/stages/:stageId')
  @ApiWrite({
    summary: 'Remove a stage; its open deals go to `moveOpenDealsTo`',
    description:
      'Records StageRemoved{stageId, moveOpenDealsTo}. Deals still in the removed stage are reported in the board under the target stage and are moved by a follow-up StageAdvanced(reason stage-removed).',
    problems: ON_A_PIPELINE,
  })
  async removeStage(
    @Param('id', UuidParamPipe) id: string,
    @Param('stageId', UuidParamPipe) stageId: string,
    @Query() query: RemoveStageQueryDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.commands.execute(
      new RemoveStageCommand(id, stageId, query.moveOpenDealsTo.toLowerCase(), context),
    );
    return writeResponse(response, id, result);
  }

  @Post(':id/archive')
  @HttpCode(200)
  @ApiWrite({
    summary: 'Archive the pipeline: no new deals or stage changes; existing deals can still be closed',
    problems: ON_A_PIPELINE,
  })
  async archive(
    @Param('id', UuidParamPipe) id: string,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.commands.execute(new ArchivePipelineCommand(id, context));
    return writeResponse(response, id, result);
  }
}

function stageInput(stage: StageDto, context: CommandContext, idSeed: string): StageInput {
  return {
    stageId: stage.stageId?.toLowerCase() ?? derivedId(context, idSeed) ?? randomUUID(),
    name: stage.name,
    probability: stage.probability,
    ...(stage.goal ? { goal: { ...stage.goal } } : {}),
  };
}
