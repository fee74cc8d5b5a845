import { decideAll } from '@dealstream/decider';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandHandling, NotFoundError, type CommandContext, type WriteResult } from '@dealstream/command-handling';
import { loadPipelineSnapshot } from '@dealstream/pipelines-application';
import { requireKnownPipeline, type PipelineSnapshot } from '@dealstream/pipelines-domain';
import {
  dealDecider,
  dealStreamName,
  decideFollowOnDeal,
  type DealCommand,
  type DealState,
} from '@dealstream/deals-domain';
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
} from './deal.commands.js';

/*
 * Each handler loads what its command needs (the deal's pipeline, a parent deal) and hands
 * CommandHandling.handle a decide function; reading, folding, Idempotency-Key replays, If-Match and
 * retries on contention are handleCommand's. A pipeline is loaded inside the decide function, so a
 * command decided again sees the pipeline as it is then.
 */

/** The deal a command addresses: 404 when its stream is empty. */
function existingDeal(state: DealState, dealId: string): DealState {
  if (state.status === 'none') throw new NotFoundError('deal', dealId);
  return state;
}

/** The pipeline a deal command names, read from its stream: `unknown-pipeline` (422) when it has none. */
async function namedPipeline(writes: CommandHandling, pipelineId: string): Promise<PipelineSnapshot> {
  return requireKnownPipeline(await loadPipelineSnapshot(writes.store, pipelineId), pipelineId);
}

/** Decides commands on an existing deal as one change (see decideAll). */
function onExistingDeal(
  writes: CommandHandling,
  dealId: string,
  context: CommandContext,
  commands: (deal: DealState) => DealCommand[] | Promise<DealCommand[]>,
): Promise<WriteResult> {
  return writes.handle(dealStreamName(dealId), dealDecider, context, async (state) => {
    const deal = existingDeal(state, dealId);
    return decideAll(dealDecider, await commands(deal), deal);
  });
}

@CommandHandler(CreateDealCommand)
export class CreateDealHandler implements ICommandHandler<CreateDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, input, context }: CreateDealCommand): Promise<WriteResult> {
    const { pipelineId, ownerId, ...fields } = input;
    return this.writes.handle(dealStreamName(dealId), dealDecider, context, async (state) =>
      dealDecider.decide(
        {
          type: 'CreateDeal',
          data: {
            ...fields,
            dealId,
            pipeline: await namedPipeline(this.writes, pipelineId),
            ownerId: ownerId ?? context.actorId,
          },
        },
        state,
      ),
    );
  }
}

@CommandHandler(UpdateDealCommand)
export class UpdateDealHandler implements ICommandHandler<UpdateDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, input, context }: UpdateDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, (deal) => {
      const commands: DealCommand[] = [];
      if (input.amount !== undefined || input.currency !== undefined) {
        commands.push({
          type: 'ChangeDealValue',
          data: { amount: input.amount ?? deal.amount, currency: input.currency ?? deal.currency },
        });
      }
      if (input.ownerId !== undefined) commands.push({ type: 'ReassignDealOwner', data: { ownerId: input.ownerId } });
      if (input.expectedCloseDate !== undefined)
        commands.push({ type: 'ChangeExpectedCloseDate', data: { expectedCloseDate: input.expectedCloseDate } });
      return commands;
    });
  }
}

@CommandHandler(QualifyDealCommand)
export class QualifyDealHandler implements ICommandHandler<QualifyDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, bant, context }: QualifyDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, () => [{ type: 'QualifyDeal', data: { bant } }]);
  }
}

@CommandHandler(DisqualifyDealCommand)
export class DisqualifyDealHandler implements ICommandHandler<DisqualifyDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, input, context }: DisqualifyDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, () => [{ type: 'DisqualifyDeal', data: input }]);
  }
}

@CommandHandler(MoveDealCommand)
export class MoveDealHandler implements ICommandHandler<MoveDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, toStageId, context }: MoveDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, async (deal) => [
      { type: 'MoveDealToStage', data: { toStageId, pipeline: await namedPipeline(this.writes, deal.pipelineId) } },
    ]);
  }
}

@CommandHandler(LogActivityCommand)
export class LogActivityHandler implements ICommandHandler<LogActivityCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, input, context }: LogActivityCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, () => [{ type: 'LogActivity', data: input }]);
  }
}

@CommandHandler(WinDealCommand)
export class WinDealHandler implements ICommandHandler<WinDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, input, context }: WinDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, () => [{ type: 'WinDeal', data: input }]);
  }
}

@CommandHandler(LoseDealCommand)
export class LoseDealHandler implements ICommandHandler<LoseDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, input, context }: LoseDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, () => [{ type: 'LoseDeal', data: input }]);
  }
}

@CommandHandler(ReopenDealCommand)
export class ReopenDealHandler implements ICommandHandler<ReopenDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ dealId, toStageId, context }: ReopenDealCommand): Promise<WriteResult> {
    return onExistingDeal(this.writes, dealId, context, async (deal) => [
      {
        type: 'ReopenDeal',
        data: { pipeline: await namedPipeline(this.writes, deal.pipelineId), ...(toStageId ? { toStageId } : {}) },
      },
    ]);
  }
}

@CommandHandler(OpenFollowOnDealCommand)
export class OpenFollowOnDealHandler implements ICommandHandler<OpenFollowOnDealCommand> {
  constructor(private readonly writes: CommandHandling) {}
  async execute({ parentDealId, newDealId, kind, input, context }: OpenFollowOnDealCommand): Promise<WriteResult> {
    const parent = await this.writes.aggregate(dealStreamName(parentDealId), dealDecider);
    if (parent.revision === undefined) throw new NotFoundError('deal', parentDealId);
    const { pipelineId, ...fields } = input;
    return this.writes.handle(dealStreamName(newDealId), dealDecider, context, async (state) => {
      const pipeline = await namedPipeline(this.writes, pipelineId ?? parent.state.pipelineId);
      return decideFollowOnDeal(
        { type: 'OpenFollowOnDeal', data: { ...fields, dealId: newDealId, pipeline, kind } },
        parent.state,
        state,
      );
    });
  }
}

export const DEAL_COMMAND_HANDLERS = [
  CreateDealHandler,
  UpdateDealHandler,
  QualifyDealHandler,
  DisqualifyDealHandler,
  MoveDealHandler,
  LogActivityHandler,
  WinDealHandler,
  LoseDealHandler,
  ReopenDealHandler,
  OpenFollowOnDealHandler,
];
