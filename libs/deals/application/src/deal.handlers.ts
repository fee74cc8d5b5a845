import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { WriteResult } from '@dealstream/shared-application';
import { dealDecider, dealError, decideFollowOnDeal, type DealCommand } from '@dealstream/deals-domain';
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
import { DealWriter } from './deal-writer.js';

@CommandHandler(CreateDealCommand)
export class CreateDealHandler implements ICommandHandler<CreateDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, input, context }: CreateDealCommand): Promise<WriteResult> {
    const { pipelineId, ownerId, ...fields } = input;
    return this.writer.create(dealId, pipelineId, context, (state, pipeline) =>
      dealDecider.decide({ type: 'CreateDeal', data: { ...fields, dealId, pipeline, ownerId: ownerId ?? context.actorId } }, state),
    );
  }
}

@CommandHandler(UpdateDealCommand)
export class UpdateDealHandler implements ICommandHandler<UpdateDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, input, context }: UpdateDealCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, (state) => {
      const commands: DealCommand[] = [];
      if (input.amount !== undefined || input.currency !== undefined) {
        commands.push({ type: 'ChangeDealValue', data: { amount: input.amount ?? state.amount, currency: input.currency ?? state.currency } });
      }
      if (input.ownerId !== undefined) commands.push({ type: 'ReassignDealOwner', data: { ownerId: input.ownerId } });
      if (input.expectedCloseDate !== undefined) commands.push({ type: 'ChangeExpectedCloseDate', data: { expectedCloseDate: input.expectedCloseDate } });
      return commands;
    });
  }
}

@CommandHandler(QualifyDealCommand)
export class QualifyDealHandler implements ICommandHandler<QualifyDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, bant, context }: QualifyDealCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, () => [{ type: 'QualifyDeal', data: { bant } }]);
  }
}

@CommandHandler(DisqualifyDealCommand)
export class DisqualifyDealHandler implements ICommandHandler<DisqualifyDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, input, context }: DisqualifyDealCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, () => [{ type: 'DisqualifyDeal', data: input }]);
  }
}

@CommandHandler(MoveDealCommand)
export class MoveDealHandler implements ICommandHandler<MoveDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, toStageId, context }: MoveDealCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, (_, pipeline) => [{ type: 'MoveDealToStage', data: { toStageId, pipeline: pipeline! } }], { withPipeline: true });
  }
}

@CommandHandler(LogActivityCommand)
export class LogActivityHandler implements ICommandHandler<LogActivityCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, input, context }: LogActivityCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, () => [{ type: 'LogActivity', data: input }]);
  }
}

@CommandHandler(WinDealCommand)
export class WinDealHandler implements ICommandHandler<WinDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, input, context }: WinDealCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, () => [{ type: 'WinDeal', data: input }]);
  }
}

@CommandHandler(LoseDealCommand)
export class LoseDealHandler implements ICommandHandler<LoseDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, input, context }: LoseDealCommand): Promise<WriteResult> {
    return this.writer.update(dealId, context, () => [{ type: 'LoseDeal', data: input }]);
  }
}

@CommandHandler(ReopenDealCommand)
export class ReopenDealHandler implements ICommandHandler<ReopenDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  execute({ dealId, toStageId, context }: ReopenDealCommand): Promise<WriteResult> {
    return this.writer.update(
      dealId,
      context,
      (_, pipeline) => [{ type: 'ReopenDeal', data: { pipeline: pipeline!, ...(toStageId ? { toStageId } : {}) } }],
      { withPipeline: true },
    );
  }
}

@CommandHandler(OpenFollowOnDealCommand)
export class OpenFollowOnDealHandler implements ICommandHandler<OpenFollowOnDealCommand> {
  constructor(private readonly writer: DealWriter) {}
  async execute({ parentDealId, newDealId, kind, input, context }: OpenFollowOnDealCommand): Promise<WriteResult> {
    const parent = await this.writer.load(parentDealId);
    const { pipelineId, ...fields } = input;
    return this.writer.create(newDealId, pipelineId ?? parent.pipelineId, context, (state, pipeline) => {
      if (state.status !== 'none') throw dealError('deal-already-exists', `deal ${newDealId} already exists`, { dealId: newDealId });
      return decideFollowOnDeal({ type: 'OpenFollowOnDeal', data: { ...fields, dealId: newDealId, pipeline, kind } }, parent);
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
