import { Command } from '@nestjs/cqrs';
import type { CommandContext, WriteResult } from '@dealstream/command-handling';
import type { ActivityKind, Bant, DisqualificationReason, FollowOnKind } from '@dealstream/deals-domain';

/*
 * The deal use cases, as @nestjs/cqrs commands: the addressed deal id, the validated input, and
 * the CommandContext (actor from the token, correlation, Idempotency-Key, If-Match).
 */

export interface NewDealInput {
  readonly pipelineId: string;
  readonly stageId?: string;
  readonly title: string;
  readonly account: string;
  readonly contact?: string;
  readonly amount: number;
  readonly currency: string;
  /** Defaults to the actor. */
  readonly ownerId?: string;
  readonly source?: string;
  readonly expectedCloseDate?: string;
}

export class CreateDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly input: NewDealInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** A PATCH: any of value, owner, expected close date; decided and appended as one change. */
export class UpdateDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly input: { amount?: number; currency?: string; ownerId?: string; expectedCloseDate?: string | null },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class QualifyDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly bant: Bant,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class DisqualifyDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly input: { reason: DisqualificationReason; note?: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class MoveDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly toStageId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class LogActivityCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly input: { activityId: string; kind: ActivityKind; outcome?: string; note?: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class WinDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly input: { amount?: number; currency?: string; reason?: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class LoseDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly input: { reason: string; competitor?: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ReopenDealCommand extends Command<WriteResult> {
  constructor(
    readonly dealId: string,
    readonly toStageId: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Up-sell or cross-sell on a won deal: creates `newDealId`, linked to the parent. */
export class OpenFollowOnDealCommand extends Command<WriteResult> {
  constructor(
    readonly parentDealId: string,
    readonly newDealId: string,
    readonly kind: FollowOnKind,
    readonly input: Omit<NewDealInput, 'pipelineId' | 'account'> & { pipelineId?: string; account?: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}
