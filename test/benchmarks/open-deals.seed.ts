import { v5 as uuidv5 } from 'uuid';
import { fold } from '@dealstream/decider';
import type { EventStore, NewEvent } from '@dealstream/event-store';
import { pipelineDecider, pipelineStreamName, toPipelineSnapshot } from '@dealstream/pipelines-domain';
import { dealDecider, dealStreamName, type DealCommand, type DealState } from '@dealstream/deals-domain';
import { SYNTHETIC_PROBABILITIES, SYNTHETIC_STAGES, seededRandom } from '@dealstream/seeding';

const NAMESPACE = '6c1f3b9e-2a4d-4e8f-9b7c-1d2e3f4a5b6c';
const DAY = 86_400_000;
const STAGES = SYNTHETIC_STAGES;
const PROBABILITIES = SYNTHETIC_PROBABILITIES;

/**
 * A cheap board at scale for the benchmark (issue 16: "the board at 100k open deals"): one pipeline of
 * seven stages (21-day goals) and `deals` deals that all stay open — created over the 90 days before
 * `end`, half of them moved once — 1–2 events each, written through the real decider, each deal in
 * one append (many appends in flight, so the store's group commit batches them). Deterministic from
 * `seed`; writing it again appends nothing (event ids are derived). `history` adds that many changes to
 * each deal after its creation (amount, owner, close date in turn; the deal stays open), so 100,000
 * open deals come with a history of ~1M events (issue 16: "at 1M events").
 */
export async function writeOpenDeals(
  store: EventStore,
  options: { seed: number; deals: number; end: Date; concurrency?: number; history?: number },
): Promise<{ pipelineId: string; deals: number; events: number }> {
  const id = (...parts: (string | number)[]) => uuidv5([options.seed, ...parts].join(':'), NAMESPACE);
  const end = options.end.getTime();
  const pipelineId = id('pipeline');
  const stageIds = STAGES.map((_, i) => id('stage', i));
  const define = pipelineDecider.decide(
    {
      type: 'DefinePipeline',
      data: {
        pipelineId,
        // No pipeline currency: its deals are in EUR and USD.
        name: `Open deals (seed ${options.seed})`,
        stages: STAGES.map((name, i) => ({
          stageId: stageIds[i],
          name,
          probability: PROBABILITIES[i],
          goal: { maxDaysInStage: 21 },
        })),
      },
    },
    pipelineDecider.initialState(),
  );
  const start = new Date(end - 100 * DAY);
  await store.appendToStream(
    pipelineStreamName(pipelineId),
    define.map((event, i) => newEvent(event, id('pipeline-event', i), start)),
    { expectedRevision: 'any' },
  );
  const pipeline = toPipelineSnapshot(fold(pipelineDecider, define));
  let events = define.length;
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < options.deals; n = next++) {
      const random = seededRandom(options.seed * 1_000_003 + n);
      let at = end - random() * 90 * DAY;
      const stage = Math.floor(random() * (STAGES.length - 1));
      let state: DealState = dealDecider.initialState();
      const out: NewEvent[] = [];
      const apply = (command: DealCommand) => {
        for (const event of dealDecider.decide(command, state)) {
          out.push(newEvent(event, id('deal-event', n, out.length), new Date(at)));
          state = dealDecider.evolve(state, event);
        }
      };
      apply({
        type: 'CreateDeal',
        data: {
          dealId: id('deal', n),
          pipeline,
          stageId: stageIds[stage],
          title: `Open deal ${n}`,
          account: `Account ${Math.floor(random() * 5000)}`,
          amount: 1000 * (5 + Math.floor(random() * 500)),
          currency: random() < 0.8 ? 'EUR' : 'USD',
          ownerId: `owner-${Math.floor(random() * 25)}`,
        },
      });
      if (random() < 0.5 && at < end - DAY) {
        at += random() * (end - at);
        apply({ type: 'MoveDealToStage', data: { toStageId: stageIds[stage + 1], pipeline } });
      }
      for (let h = 0; h < (options.history ?? 0); h++) {
        at += random() * ((end - at) / 2);
        const change = h % 3;
        if (change === 0)
          apply({
            type: 'ChangeDealValue',
            data: { amount: 1000 * (5 + Math.floor(random() * 500)), currency: state.currency },
          });
        else if (change === 1)
          apply({ type: 'ReassignDealOwner', data: { ownerId: `owner-${Math.floor(random() * 25)}` } });
        else
          apply({
            type: 'ChangeExpectedCloseDate',
            data: { expectedCloseDate: new Date(end + random() * 90 * DAY).toISOString().slice(0, 10) },
          });
      }
      await store.appendToStream(dealStreamName(id('deal', n)), out, { expectedRevision: 'any' });
      events += out.length;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 64 }, worker));
  return { pipelineId, deals: options.deals, events };
}

function newEvent(event: { type: string; data: object }, eventId: string, occurredAt: Date): NewEvent {
  return {
    eventId,
    type: event.type,
    data: event.data,
    metadata: { actorId: 'seed', correlationId: 'open-deals', occurredAt },
  };
}
