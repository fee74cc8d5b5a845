import { fold } from '@dealstream/decider';
import {
  pipelineDecider,
  toPipelineSnapshot,
  type PipelineEvent,
  type PipelineSnapshot,
  type Stage,
} from '@dealstream/pipelines-domain';
import type { Bant, BantCriterion } from '../deal-qualification.model.js';
import type { CreateDeal } from '../deal.commands.js';
import type { DealCreated, DealEvent } from '../deal.events.js';

export const PIPELINE_ID = 'pipeline-0001';
export const DEAL_ID = 'deal-0001';

export const STAGE = {
  prospecting: 'stage-prospecting',
  qualifying: 'stage-qualifying',
  proposal: 'stage-proposal',
  negotiation: 'stage-negotiation',
  closing: 'stage-closing',
} as const;

const stages: Stage[] = [
  { stageId: STAGE.prospecting, name: 'Prospecting', probability: 10 },
  { stageId: STAGE.qualifying, name: 'Qualifying', probability: 20 },
  { stageId: STAGE.proposal, name: 'Proposal', probability: 50 },
  { stageId: STAGE.negotiation, name: 'Negotiation', probability: 70 },
  { stageId: STAGE.closing, name: 'Closing', probability: 90 },
];

/** The board as the handler would read it, after the given pipeline events. */
export function board(...changes: PipelineEvent[]): PipelineSnapshot {
  const defined: PipelineEvent = {
    type: 'PipelineDefined',
    data: { pipelineId: PIPELINE_ID, name: 'Enterprise sales', currency: 'EUR', stages },
  };
  return toPipelineSnapshot(fold(pipelineDecider, [defined, ...changes]));
}

export const removeStage = (stageId: string, moveOpenDealsTo: string): PipelineEvent => ({
  type: 'StageRemoved',
  data: { stageId, moveOpenDealsTo },
});

export const pipelineArchived: PipelineEvent = { type: 'PipelineArchived', data: {} };

export function createDeal(data: Partial<CreateDeal['data']> = {}): CreateDeal {
  return {
    type: 'CreateDeal',
    data: {
      dealId: DEAL_ID,
      pipeline: board(),
      title: 'ACME – 200 seats',
      account: 'ACME Corp',
      amount: 4_800_000,
      currency: 'EUR',
      ownerId: 'user-alice',
      ...data,
    },
  };
}

export function dealCreated(data: Partial<DealCreated['data']> = {}): DealCreated {
  return {
    type: 'DealCreated',
    data: {
      dealId: DEAL_ID,
      pipelineId: PIPELINE_ID,
      stageId: STAGE.prospecting,
      title: 'ACME – 200 seats',
      account: 'ACME Corp',
      amount: 4_800_000,
      currency: 'EUR',
      ownerId: 'user-alice',
      kind: 'new',
      ...data,
    },
  };
}

export const created = dealCreated();

export function advanced(fromStageId: string, toStageId: string): DealEvent {
  return { type: 'StageAdvanced', data: { fromStageId, toStageId } };
}

const yes: BantCriterion = { confirmed: true };
const no: BantCriterion = { confirmed: false };

/** All four confirmed unless overridden, e.g. `bant({ budget: false })`. */
export function bant(confirmed: Partial<Record<keyof Bant, boolean>> = {}): Bant {
  const pick = (name: keyof Bant) => (confirmed[name] === false ? no : yes);
  return { budget: pick('budget'), authority: pick('authority'), need: pick('need'), timeline: pick('timeline') };
}

export const qualified: DealEvent = { type: 'DealQualified', data: { bant: bant(), score: 100 } };
export const won: DealEvent = { type: 'DealWon', data: { amount: 4_800_000 } };
export const lost: DealEvent = { type: 'DealLost', data: { reason: 'Chose a cheaper vendor', competitor: 'Initech' } };
export const disqualified: DealEvent = { type: 'DealDisqualified', data: { reason: 'no-budget' } };
