import { randomUUID } from 'node:crypto';
import type { EventStore } from '@dealstream/event-store';
import type { DealCommand } from '@dealstream/deals-domain';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import { FixtureWriter } from './fixture-writer.js';

/**
 * A quick varied history for process-level tests: one pipeline and `deals` deals, each written as
 * one append of 3–8 events (moves forward and back, value changes, activities, closes, reopens).
 */
export async function writeVariedHistory(
  store: EventStore,
  deals: number,
): Promise<{ pipelineId: string; events: number }> {
  const writer = new FixtureWriter(store);
  const pipelineId = randomUUID();
  const stageIds = Array.from({ length: 5 }, () => randomUUID());
  await writer.pipeline(pipelineId, new Date('2025-01-01T00:00:00Z'), () => [
    {
      type: 'DefinePipeline',
      data: {
        pipelineId,
        name: 'Crash',
        currency: 'EUR',
        stages: stageIds.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 10 + 20 * i })),
      },
    },
  ]);
  let events = 1;
  for (let i = 0; i < deals; i++) {
    const dealId = randomUUID();
    const script = (pipeline: PipelineSnapshot): DealCommand[] => {
      const to = (s: number): DealCommand => ({ type: 'MoveDealToStage', data: { toStageId: stageIds[s], pipeline } });
      const commands: DealCommand[] = [
        {
          type: 'CreateDeal',
          data: {
            dealId,
            pipeline,
            title: `Deal ${i}`,
            account: `Acct ${i % 17}`,
            amount: 1000 + i,
            currency: 'EUR',
            ownerId: `owner-${i % 5}`,
          },
        },
        to(1 + (i % 3)),
      ];
      if (i % 2 === 0) commands.push(to(0));
      commands.push({ type: 'ChangeDealValue', data: { amount: 2000 + i, currency: 'EUR' } });
      if (i % 3 === 0) commands.push({ type: 'LogActivity', data: { activityId: randomUUID(), kind: 'call' } });
      if (i % 4 === 1)
        commands.push({ type: 'LoseDeal', data: { reason: 'price' } }, { type: 'ReopenDeal', data: { pipeline } });
      if (i % 5 === 2) commands.push({ type: 'WinDeal', data: {} });
      return commands;
    };
    await writer.deal(dealId, new Date(Date.UTC(2025, 0, 2) + i * 60_000), script, pipelineId);
    events += script({ pipelineId, status: 'active', currency: 'EUR', stages: [], removedStages: {} }).length;
  }
  return { pipelineId, events };
}
