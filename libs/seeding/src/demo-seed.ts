import type { EventStore } from '@dealstream/event-store';
import { handleCommand, type CommandContext } from '@dealstream/command-handling';
import {
  pipelineDecider,
  pipelineStreamName,
  toPipelineSnapshot,
  type PipelineCommand,
} from '@dealstream/pipelines-domain';
import { dealDecider, dealStreamName, type DealCommand } from '@dealstream/deals-domain';
import { fold, decideAll } from '@dealstream/decider';

/** Fixed ids: the demo is loaded once, and loading it again changes nothing. */
export const DEMO_PIPELINE_ID = 'de000000-0000-4000-8000-000000000001';
const STAGES: [string, number, number | undefined][] = [
  ['Prospecting', 5, 14],
  ['Qualifying', 10, 10],
  ['Contact made', 20, 10],
  ['Needs assessment', 35, 14],
  ['Proposal', 60, 10],
  ['Negotiation', 80, 7],
  ['Closing', 90, 5],
];
const stageId = (i: number) => `de000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`;
const dealId = (i: number) => `de000000-0000-4000-8000-0000000002${String(i).padStart(2, '0')}`;

interface DemoDeal {
  title: string;
  account: string;
  amount: number;
  owner: string;
  /** What happens to it after creation, in order. */
  script: (pipeline: ReturnType<typeof toPipelineSnapshot>) => DealCommand[];
}

const move = (i: number, pipeline: ReturnType<typeof toPipelineSnapshot>): DealCommand => ({
  type: 'MoveDealToStage',
  data: { toStageId: stageId(i), pipeline },
});
const bant = (budget: boolean): DealCommand => ({
  type: 'QualifyDeal',
  data: {
    bant: {
      budget: { confirmed: budget },
      authority: { confirmed: true },
      need: { confirmed: true },
      timeline: { confirmed: true },
    },
  },
});

const DEALS: DemoDeal[] = [
  {
    title: 'Globex — CRM rollout',
    account: 'Globex',
    amount: 4_800_000,
    owner: 'sam',
    script: (p) => [bant(true), move(1, p), move(2, p), move(3, p), move(4, p)],
  },
  {
    title: 'Initech — 50 seats',
    account: 'Initech',
    amount: 900_000,
    owner: 'sue',
    script: (p) => [bant(true), move(1, p), move(4, p), move(3, p)],
  },
  {
    title: 'Umbrella — pilot',
    account: 'Umbrella',
    amount: 250_000,
    owner: 'sam',
    script: (p) => [move(1, p), { type: 'DisqualifyDeal', data: { reason: 'no-budget' } }],
  },
  {
    title: 'Hooli — enterprise',
    account: 'Hooli',
    amount: 12_000_000,
    owner: 'sue',
    script: (p) => [bant(true), move(1, p), move(2, p), move(3, p), move(4, p), move(5, p)],
  },
  {
    title: 'Vandelay — import module',
    account: 'Vandelay',
    amount: 600_000,
    owner: 'sam',
    script: (p) => [
      bant(true),
      move(2, p),
      move(4, p),
      { type: 'LoseDeal', data: { reason: 'price', competitor: 'Globex CRM' } },
    ],
  },
  {
    title: 'Stark — 500 seats',
    account: 'Stark Industries',
    amount: 7_500_000,
    owner: 'sue',
    script: (p) => [
      bant(true),
      move(1, p),
      move(2, p),
      move(3, p),
      move(4, p),
      move(5, p),
      move(6, p),
      { type: 'WinDeal', data: { reason: 'best fit' } },
    ],
  },
  {
    title: 'Wayne — analytics add-on',
    account: 'Wayne Enterprises',
    amount: 1_500_000,
    owner: 'sam',
    script: (p) => [bant(true), move(1, p), move(2, p)],
  },
  {
    title: 'Acme — renewal',
    account: 'ACME',
    amount: 2_000_000,
    owner: 'sue',
    script: () => [
      {
        type: 'LogActivity',
        data: { activityId: 'de000000-0000-4000-8000-000000000301', kind: 'call', outcome: 'intro booked' },
      },
    ],
  },
];

/**
 * Loads a small demo: a 7-stage pipeline in EUR and eight deals spread over the board — open,
 * moved back, disqualified, lost, won. Returns false when it was loaded already.
 */
export async function loadDemoData(store: EventStore, actorId = 'demo-loader'): Promise<boolean> {
  if ((await store.streamRevision(pipelineStreamName(DEMO_PIPELINE_ID))) !== undefined) return false;
  const context = (key: string): CommandContext => ({
    actorId,
    correlationId: 'demo-load',
    idempotencyKey: `demo:${key}`,
    now: new Date(),
  });
  const define: PipelineCommand = {
    type: 'DefinePipeline',
    data: {
      pipelineId: DEMO_PIPELINE_ID,
      name: 'New business (demo)',
      currency: 'EUR',
      stages: STAGES.map(([name, probability, maxDaysInStage], i) => ({
        stageId: stageId(i),
        name,
        probability,
        ...(maxDaysInStage ? { goal: { maxDaysInStage } } : {}),
      })),
    },
  };
  await handleCommand(store, pipelineStreamName(DEMO_PIPELINE_ID), (s) => pipelineDecider.decide(define, s), {
    decider: pipelineDecider,
    context: context('pipeline'),
  });
  const pipeline = toPipelineSnapshot(
    fold(pipelineDecider, pipelineDecider.decide(define, pipelineDecider.initialState())),
  );
  for (const [i, deal] of DEALS.entries()) {
    const id = dealId(i);
    const create: DealCommand = {
      type: 'CreateDeal',
      data: {
        dealId: id,
        pipeline,
        title: deal.title,
        account: deal.account,
        amount: deal.amount,
        currency: 'EUR',
        ownerId: deal.owner,
      },
    };
    await handleCommand(
      store,
      dealStreamName(id),
      (s) => decideAll(dealDecider, [create, ...deal.script(pipeline)], s),
      { decider: dealDecider, context: context(`deal-${i}`) },
    );
  }
  return true;
}
