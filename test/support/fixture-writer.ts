import { randomUUID } from 'node:crypto';
import { fold, decideAll } from '@dealstream/decider';
import type { EventStore } from '@dealstream/event-store';
import { handleCommand } from '@dealstream/command-handling';
import {
  pipelineDecider,
  pipelineStreamName,
  toPipelineSnapshot,
  type PipelineCommand,
  type PipelineEvent,
  type PipelineSnapshot,
} from '@dealstream/pipelines-domain';
import {
  dealDecider,
  decideFollowOnDeal,
  dealStreamName,
  type DealCommand,
  type DealEvent,
} from '@dealstream/deals-domain';

/**
 * Writes test histories through the real deciders and the real write path, at chosen business
 * times (occurredAt = `at`), so read-model tests start from events the API could have written.
 */
export class FixtureWriter {
  constructor(
    private readonly store: EventStore,
    private readonly actorId = 'fixture',
  ) {}

  async pipeline(
    pipelineId: string,
    at: Date,
    commands: (state: ReturnType<typeof pipelineDecider.initialState>) => PipelineCommand[],
  ): Promise<void> {
    await handleCommand(
      this.store,
      pipelineStreamName(pipelineId),
      (state) => decideAll(pipelineDecider, commands(state), state),
      { decider: pipelineDecider, context: { actorId: this.actorId, correlationId: randomUUID(), now: at } },
    );
  }

  async snapshot(pipelineId: string): Promise<PipelineSnapshot> {
    return toPipelineSnapshot(
      fold(pipelineDecider, await this.store.readStream<PipelineEvent>(pipelineStreamName(pipelineId))),
    );
  }

  async deal(
    dealId: string,
    at: Date,
    commands: (pipeline: PipelineSnapshot) => DealCommand[],
    pipelineId: string,
  ): Promise<void> {
    const pipeline = await this.snapshot(pipelineId);
    await handleCommand(
      this.store,
      dealStreamName(dealId),
      (state) => decideAll(dealDecider, commands(pipeline), state),
      { decider: dealDecider, context: { actorId: this.actorId, correlationId: randomUUID(), now: at } },
    );
  }

  async followOn(
    dealId: string,
    parentDealId: string,
    at: Date,
    kind: 'upsell' | 'cross-sell',
    fields: { title: string; amount: number; currency: string },
    pipelineId: string,
  ): Promise<void> {
    const pipeline = await this.snapshot(pipelineId);
    const parent = fold(dealDecider, await this.store.readStream<DealEvent>(dealStreamName(parentDealId)));
    await handleCommand(
      this.store,
      dealStreamName(dealId),
      () => decideFollowOnDeal({ type: 'OpenFollowOnDeal', data: { dealId, pipeline, kind, ...fields } }, parent),
      { decider: dealDecider, context: { actorId: this.actorId, correlationId: randomUUID(), now: at } },
    );
  }
}
