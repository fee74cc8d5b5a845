import type { DefinePipeline } from '../pipeline.commands.js';
import type { PipelineDefined, PipelineEvent } from '../pipeline.events.js';
import type { Stage } from '../pipeline-stage.model.js';

/** A typical B2B board; specs change only what their rule is about. */
export const PIPELINE_ID = 'pipeline-0001';

export const STAGE = {
  prospecting: 'stage-prospecting',
  qualifying: 'stage-qualifying',
  proposal: 'stage-proposal',
  negotiation: 'stage-negotiation',
  closing: 'stage-closing',
} as const;

export const standardStages: Stage[] = [
  { stageId: STAGE.prospecting, name: 'Prospecting', probability: 10 },
  { stageId: STAGE.qualifying, name: 'Qualifying', probability: 20, goal: { maxDaysInStage: 14 } },
  { stageId: STAGE.proposal, name: 'Proposal', probability: 50 },
  {
    stageId: STAGE.negotiation,
    name: 'Negotiation',
    probability: 70,
    goal: { maxDaysInStage: 21, targetConversion: 60 },
  },
  { stageId: STAGE.closing, name: 'Closing', probability: 90 },
];

export function definePipeline(data: Partial<DefinePipeline['data']> = {}): DefinePipeline {
  return {
    type: 'DefinePipeline',
    data: { pipelineId: PIPELINE_ID, name: 'Enterprise sales', currency: 'EUR', stages: standardStages, ...data },
  };
}

export function pipelineDefined(data: Partial<PipelineDefined['data']> = {}): PipelineDefined {
  return {
    type: 'PipelineDefined',
    data: { pipelineId: PIPELINE_ID, name: 'Enterprise sales', currency: 'EUR', stages: standardStages, ...data },
  };
}

export const archived: PipelineEvent = { type: 'PipelineArchived', data: {} };

/** `count` stages named "Stage 1".."Stage n" with ids "s-1".."s-n". */
export function numberedStages(count: number): Stage[] {
  return Array.from({ length: count }, (_, i) => ({ stageId: `s-${i + 1}`, name: `Stage ${i + 1}`, probability: 0 }));
}
