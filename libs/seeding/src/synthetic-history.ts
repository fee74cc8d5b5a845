import { v5 as uuidv5 } from 'uuid';
import { fold } from '@dealstream/decider';
import type { EventStore, NewEvent } from '@dealstream/event-store';
import {
  pipelineDecider,
  pipelineStreamName,
  toPipelineSnapshot,
  type PipelineSnapshot,
} from '@dealstream/pipelines-domain';
import {
  dealDecider,
  dealStreamName,
  decideFollowOnDeal,
  type DealCommand,
  type DealState,
} from '@dealstream/deals-domain';
import { seededRandom } from './prng.js';

export interface SyntheticHistoryOptions {
  readonly seed: number;
  readonly deals: number;
  readonly months: number;
  /** History ends here (default: now); it starts `months` before. */
  readonly end?: Date;
  /** Concurrent appends (default 8). */
  readonly concurrency?: number;
  readonly onProgress?: (dealsWritten: number, eventsWritten: number) => void;
}

const NAMESPACE = '0b5e1c2a-7d4f-4c1e-9a3b-5f6e7d8c9b0a';
const DAY = 86_400_000;
/** The synthetic board's seven stages and their win probabilities (also the benchmarks' open-deals board). */
export const SYNTHETIC_STAGES = [
  'Prospecting',
  'Qualifying',
  'Contact made',
  'Needs assessment',
  'Proposal',
  'Negotiation',
  'Closing',
];
export const SYNTHETIC_PROBABILITIES = [5, 10, 20, 35, 60, 80, 90];
const STAGES = SYNTHETIC_STAGES;
const PROBABILITIES = SYNTHETIC_PROBABILITIES;

/**
 * Writes a realistic synthetic history through the real deciders: deals created over `months`,
 * walking the 7-stage board with skips, backward moves, activities and value changes, ending
 * disqualified, lost, won (some then up-sold or cross-sold) or still open. Business time is
 * backdated event by event. Everything — ids, times, choices — follows from `seed`, so the same
 * seed writes the same events, and running it twice appends nothing new (event ids are derived).
 */
export async function writeSyntheticHistory(
  store: EventStore,
  options: SyntheticHistoryOptions,
): Promise<{ pipelineId: string; deals: number; events: number }> {
  const id = (...parts: (string | number)[]) => uuidv5([options.seed, ...parts].join(':'), NAMESPACE);
  const end = (options.end ?? new Date()).getTime();
  const start = end - options.months * 30 * DAY;
  const pipelineId = id('pipeline');
  const stageIds = STAGES.map((_, i) => id('stage', i));
  const define = pipelineDecider.decide(
    {
      type: 'DefinePipeline',
      data: {
        pipelineId,
        name: `Synthetic (seed ${options.seed})`,
        currency: 'EUR',
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
  await store.appendToStream(
    pipelineStreamName(pipelineId),
    define.map((event, i) => toNewEvent(event, id('pipeline-event', i), new Date(start))),
    { expectedRevision: 'any' },
  );
  const pipeline = toPipelineSnapshot(fold(pipelineDecider, define));

  let events = define.length;
  let written = 0;
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < options.deals; n = next++) {
      for (const [streamId, stream] of simulateDeal(n, options.seed, pipeline, stageIds, start, end, id)) {
        await store.appendToStream(streamId, stream, { expectedRevision: 'any' });
        events += stream.length;
      }
      written++;
      if (written % 200 === 0) options.onProgress?.(written, events);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  options.onProgress?.(written, events);
  return { pipelineId, deals: written, events };
}

/** One deal's life (and its follow-on deal's, if any) as streams of events to append. */
function simulateDeal(
  n: number,
  seed: number,
  pipeline: PipelineSnapshot,
  stageIds: string[],
  start: number,
  end: number,
  id: (...parts: (string | number)[]) => string,
): [string, NewEvent[]][] {
  const random = seededRandom(seed * 1_000_003 + n);
  const dealId = id('deal', n);
  let at = start + random() * (end - start) * 0.95;
  const out: NewEvent[] = [];
  let state: DealState = dealDecider.initialState();
  const apply = (command: DealCommand) => {
    if (at > end) return false;
    const decided = dealDecider.decide(command, state);
    for (const event of decided) {
      out.push(toNewEvent(event, id('deal-event', n, out.length), new Date(at)));
      state = dealDecider.evolve(state, event);
    }
    return true;
  };
  const startStage = random() < 0.8 ? 0 : 1 + Math.floor(random() * 2);
  apply({
    type: 'CreateDeal',
    data: {
      dealId,
      pipeline,
      stageId: stageIds[startStage],
      title: `Deal ${n}`,
      account: `Account ${Math.floor(random() * 5000)}`,
      amount: 1000 * (5 + Math.floor(random() * 500)),
      currency: 'EUR',
      ownerId: `owner-${Math.floor(random() * 25)}`,
    },
  });
  let stage = startStage;
  for (let step = 0; step < 40 && state.status === 'open'; step++) {
    at += DAY * (0.5 + random() * 9);
    const roll = random();
    if (stage <= 1 && roll < 0.08) {
      apply({
        type: 'DisqualifyDeal',
        data: {
          reason: (['no-budget', 'no-authority', 'no-need', 'no-engagement'] as const)[Math.floor(random() * 4)],
        },
      });
    } else if (stage >= 3 && roll < 0.1) {
      apply({
        type: 'LoseDeal',
        data: {
          reason: ['price', 'timing', 'competitor', 'no decision'][Math.floor(random() * 4)],
          ...(random() < 0.5 ? { competitor: 'Globex' } : {}),
        },
      });
      if (random() < 0.15 && (state.status as string) === 'lost') {
        at += DAY * (10 + random() * 30);
        apply({ type: 'ReopenDeal', data: { pipeline } });
      }
    } else if (stage === stageIds.length - 1 && roll < 0.55) {
      apply({ type: 'WinDeal', data: {} });
    } else if (roll < 0.55) {
      const target = Math.min(stageIds.length - 1, stage + (random() < 0.15 ? 2 : 1));
      if (apply({ type: 'MoveDealToStage', data: { toStageId: stageIds[target], pipeline } })) stage = target;
    } else if (roll < 0.65 && stage > 0) {
      if (apply({ type: 'MoveDealToStage', data: { toStageId: stageIds[stage - 1], pipeline } })) stage -= 1;
    } else if (roll < 0.9) {
      apply({
        type: 'LogActivity',
        data: {
          activityId: id('activity', n, step),
          kind: (['call', 'email', 'meeting', 'social', 'note'] as const)[Math.floor(random() * 5)],
        },
      });
    } else {
      apply({
        type: 'ChangeDealValue',
        data: { amount: Math.max(0, state.amount + 1000 * Math.floor((random() - 0.4) * 50)), currency: 'EUR' },
      });
    }
    if (state.status === 'open') stage = stageIds.indexOf(state.stageId);
  }
  const streams: [string, NewEvent[]][] = [[dealStreamName(dealId), out]];
  if (state.status === 'won' && random() < 0.25) {
    at += DAY * (14 + random() * 60);
    if (at <= end) {
      const childId = id('follow-on', n);
      const created = decideFollowOnDeal(
        {
          type: 'OpenFollowOnDeal',
          data: {
            dealId: childId,
            pipeline,
            kind: random() < 0.6 ? 'upsell' : 'cross-sell',
            title: `Deal ${n} follow-on`,
            amount: Math.round(state.amount * 0.3),
            currency: 'EUR',
          },
        },
        state,
      );
      streams.push([
        dealStreamName(childId),
        created.map((event, i) => toNewEvent(event, id('follow-on-event', n, i), new Date(at))),
      ]);
    }
  }
  return streams;
}

function toNewEvent(event: { type: string; data: object }, eventId: string, occurredAt: Date): NewEvent {
  return {
    eventId,
    type: event.type,
    data: event.data,
    metadata: { actorId: 'seed', correlationId: 'synthetic-history', occurredAt },
  };
}
