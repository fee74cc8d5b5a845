import { isStageRemoved } from '@dealstream/pipelines-domain';
import type { DisqualifyDeal, MoveDealToStage, QualifyDeal } from './deal.commands.js';
import { dealError } from './deal.errors.js';
import type { DealDisqualified, DealQualified, StageAdvanced } from './deal.events.js';
import { requireOpenDeal } from './deal.guards.js';
import { requireDealsPipeline, requireLiveStage } from './deal-pipeline.guards.js';
import { DISQUALIFICATION_REASONS, STAGE_MOVE_REASONS } from './deal.model.js';
import { assessBant, requireBant } from './deal-qualification.model.js';
import type { DealState } from './deal.state.js';
import { oneOf, optionalField, optionalText, requireId, TEXT_LIMITS } from './deal.validation.js';

/** Re-qualifying is a reassessment and always recorded, even with the same answers. */
export function decideQualifyDeal({ data }: QualifyDeal, state: DealState): DealQualified[] {
  const bant = requireBant(data.bant);
  const { unmet, score } = assessBant(bant);
  if (unmet.length > 0) {
    throw dealError('bant-criteria-not-met', `Not confirmed: ${unmet.join(', ')}`, { unmet });
  }
  requireOpenDeal(state);
  return [{ type: 'DealQualified', data: { bant, score } }];
}

export function decideDisqualifyDeal({ data }: DisqualifyDeal, state: DealState): DealDisqualified[] {
  if (!oneOf(DISQUALIFICATION_REASONS, data.reason)) {
    throw dealError('invalid-disqualification-reason', `reason must be one of ${DISQUALIFICATION_REASONS.join(', ')}`, {
      value: data.reason,
    });
  }
  const note = optionalText(data.note, 'invalid-note', 'note', TEXT_LIMITS.note);
  requireOpenDeal(state);
  return [{ type: 'DealDisqualified', data: { reason: data.reason, ...optionalField('note', note) } }];
}

export function decideMoveDealToStage({ data }: MoveDealToStage, state: DealState): StageAdvanced[] {
  const toStageId = requireId(data.toStageId, 'invalid-stage-id', 'toStageId');
  if (data.reason !== undefined && !oneOf(STAGE_MOVE_REASONS, data.reason)) {
    throw dealError('invalid-move-reason', 'reason, if given, must be stage-removed', { value: data.reason });
  }
  requireOpenDeal(state);
  requireDealsPipeline(data.pipeline, state);
  requireLiveStage(data.pipeline, toStageId, 'toStageId');
  if (toStageId === state.stageId) {
    throw dealError('already-in-stage', 'The deal is already in that stage', { stageId: toStageId });
  }
  // Only the clean-up after a stage removal may claim that reason; reports count those moves apart.
  if (data.reason === 'stage-removed' && !isStageRemoved(data.pipeline, state.stageId)) {
    throw dealError('stage-not-removed', "The deal's stage was not removed", { stageId: state.stageId });
  }
  return [
    {
      type: 'StageAdvanced',
      data: { fromStageId: state.stageId, toStageId, ...optionalField('reason', data.reason) },
    },
  ];
}
