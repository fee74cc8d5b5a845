import { randomUUID } from 'node:crypto';
import { fold } from '@dealstream/shared-domain';
import type { EventStore } from '@dealstream/event-store';
import { decideAll, executeCommand } from '@dealstream/shared-application';
import { pipelineDecider, pipelineStreamName, toPipelineSnapshot, type PipelineCommand, type PipelineEvent, type PipelineSnapshot } from '@dealstream/pipelines-domain';
import { dealDecider, decideFollowOnDeal, dealStreamName, type DealCommand, type DealEvent } from '@dealstream/deals-domain';

/**
 * Writes test histories through the real deciders and the real write path, at chosen business
 * times (occurredAt = `at`), so read-model tests start from events the API could have written.
 */
export class FixtureWriter {
  constructor(private readonly store: EventStore, private readonly actorId = 'fixture') {}

  async pipeline(pipelineId: string, at: Date, commands: (state: ReturnType<typeof pipelineDecider.initialState>) => PipelineCommand[]): Promise<void> {
    await executeCommand(this.store, {
      streamId: pipelineStreamName(pipelineId),
      evolve: pipelineDecider.evolve,
      initialState: pipelineDecider.initialState,
      decide: (state) => decideAll(pipelineDecider, commands(state), state),
      context: { actorId: this.actorId, correlationId: randomUUID(), now: at },
    });
  }

  async snapshot(pipelineId: string): Promise<PipelineSnapshot> {
    return toPipelineSnapshot(fold(pipelineDecider, await this.store.readStream<PipelineEvent>(pipelineStreamName(pipelineId))));
  }

  async deal(dealId: string, at: Date, commands: (pipeline: PipelineSnapshot) => DealCommand[], pipelineId: string): Promise<void> {
    const pipeline = await this.snapshot(pipelineId);
    await executeCommand(this.store, {
      streamId: dealStreamName(dealId),
      evolve: dealDecider.evolve,
      initialState: dealDecider.initialState,
      decide: (state) => decideAll(dealDecider, commands(pipeline), state),
      context: { actorId: this.actorId, correlationId: randomUUID(), now: at },
    });
  }

  async followOn(dealId: string, parentDealId: string, at: Date, kind: 'upsell' | 'cross-sell', fields: { title: string; amount: number; currency: string }, pipelineId: string): Promise<void> {
    const pipeline = await this.snapshot(pipelineId);
    const parent = fold(dealDecider, await this.store.readStream<DealEvent>(dealStreamName(parentDealId)));
    await executeCommand(this.store, {
      streamId: dealStreamName(dealId),
      evolve: dealDecider.evolve,
      initialState: dealDecider.initialState,
      decide: () => decideFollowOnDeal({ type: 'OpenFollowOnDeal', data: { dealId, pipeline, kind, ...fields } }, parent),
      context: { actorId: this.actorId, correlationId: randomUUID(), now: at },
    });
  }
}
