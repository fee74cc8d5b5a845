import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { randomUUID } from 'node:crypto';
import { derivedId } from '@dealstream/command-handling';
import { stageMapErrorKinds } from '@dealstream/stage-maps-domain';
import {
  ChangeStageMapCommand,
  DefineStageMapCommand,
  DeleteStageMapCommand,
  StageMapReader,
  type StageMapInput,
} from '@dealstream/stage-maps-application';
import { ApiRead, ApiWrite } from '../controller-kit/api-docs.decorators.js';
import { commandContextOf } from '../controller-kit/command-context.factory.js';
import { UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { writeResponse } from '../controller-kit/write-result.js';
import { ApiProblem } from '../problem/api-problem.js';
import { DATABASE_FAULTS, domainProblems, mergeProblems } from '../problem/problem-catalogue.js';
import { DefineStageMapDto, StageMapContentDto, StageMapViewDto } from './dtos/stage-map.dto.js';

const INVALID_MAP =
  '422 `invalid-stage-map` when the map does not fit the pipeline: `details.problems[]` lists every rule broken (`unknown-stage`, `unmapped-stage`, `unknown-target`, `empty-target`, `duplicate-stage`, `duplicate-target-id`, `duplicate-target-name`, `invalid-target-id`, `invalid-target-name`, `no-targets`, `too-many-targets`) with every offending entry; nothing is written. ' +
  'A map is one level (stage → target), so it has no cycles.';

/** What the stage-map decider can refuse (409/422 by kind). */
const STAGE_MAP_DOMAIN = domainProblems(stageMapErrorKinds);
/** A command on an existing stage map, addressed by its id. */
const ON_A_STAGE_MAP = mergeProblems(STAGE_MAP_DOMAIN, { 404: ['stage-map-not-found'] });

/**
 * Stage maps: an analyst's view of a pipeline in other stages ("last year's funnel in this year's five
 * stages"), event-sourced in streams `stagemap-<id>`. Reports take `stageMap=<id>`.
 */
@ApiTags('stage maps')
@Controller()
export class StageMapsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly maps: StageMapReader,
  ) {}

  @Post('pipelines/:id/stage-maps')
  @HttpCode(201)
  @ApiWrite({
    summary: 'Define a stage map for the pipeline: target stages and what every stage it ever had counts as',
    description: `Records StageMapDefined in stream stagemap-<id>. ${INVALID_MAP} 404 when the pipeline does not exist; 409 \`stage-map-already-defined\` for an id in use.`,
    status: 201,
    problems: mergeProblems(STAGE_MAP_DOMAIN, { 404: ['pipeline-not-found'] }),
    conditional: false,
  })
  async define(
    @Param('id', UuidParamPipe) pipelineId: string,
    @Body() body: DefineStageMapDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const id = body.id?.toLowerCase() ?? derivedId(context, 'stage-map') ?? randomUUID();
    const result = await this.commands.execute(new DefineStageMapCommand(id, pipelineId, inputOf(body), context));
    response.header('Location', `/stage-maps/${id}`);
    return writeResponse(response, id, result);
  }

  @Put('stage-maps/:id')
  @ApiWrite({
    summary: 'Replace a stage map’s name, targets and stage assignments',
    description: `Records StageMapChanged (the whole new content). ${INVALID_MAP} 409 \`stage-map-deleted\` once deleted.`,
    problems: ON_A_STAGE_MAP,
  })
  async change(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: StageMapContentDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.commands.execute(new ChangeStageMapCommand(id, inputOf(body), context));
    return writeResponse(response, id, result);
  }

  @Delete('stage-maps/:id')
  @ApiWrite({
    summary: 'Delete a stage map (its history stays in its stream)',
    description:
      'Records StageMapDeleted; reports then refuse it (422 `unknown-stage-map`). 409 `stage-map-deleted` twice.',
    problems: ON_A_STAGE_MAP,
  })
  async remove(
    @Param('id', UuidParamPipe) id: string,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const context = commandContextOf(request);
    const result = await this.commands.execute(new DeleteStageMapCommand(id, context));
    return writeResponse(response, id, result);
  }

  @Get('stage-maps/:id')
  @ApiRead({
    summary: 'A stage map as defined now (ETag = its stream revision)',
    description: 'Read from the map’s own stream, so a map is readable as soon as its write answered.',
    type: StageMapViewDto,
    readModels: false,
    problems: mergeProblems(DATABASE_FAULTS, { 404: ['stage-map-not-found'], 503: ['event-store-unavailable'] }),
  })
  async get(@Param('id', UuidParamPipe) id: string, @Res({ passthrough: true }) response: HttpReply) {
    const map = await this.maps.load(id);
    if (!map) throw new ApiProblem(404, 'stage-map-not-found', `stage map ${id} does not exist (or was deleted)`);
    response.header('ETag', `"${map.revision}"`);
    return {
      stageMapId: map.stageMapId,
      pipelineId: map.pipelineId,
      name: map.name,
      targets: map.targets,
      stages: map.assignments,
      revision: String(map.revision),
    };
  }
}

function inputOf(body: StageMapContentDto): StageMapInput {
  return {
    name: body.name,
    targets: body.targets.map((t) => ({ targetId: t.targetId, name: t.name })),
    assignments: body.stages.map((s) => ({ stageId: s.stageId.toLowerCase(), countsAs: s.countsAs })),
  };
}
