import type { CreateDeal, NewDealFields, OpenFollowOnDeal } from './deal.commands.js';
import { dealError } from './deal.errors.js';
import type { DealCreated } from './deal.events.js';
import { requireActivePipeline, requireLiveStage, requirePipelineCurrency } from './deal-pipeline.guards.js';
import { FOLLOW_ON_KINDS, type DealKind } from './deal.model.js';
import { initialDealState, type DealState } from './deal.state.js';
import {
  oneOf,
  optionalField,
  optionalText,
  requireAmount,
  requireCurrency,
  requireExpectedCloseDate,
  requireId,
  requireText,
  TEXT_LIMITS,
} from './deal.validation.js';

type DealCreatedData = DealCreated['data'];

function requireNewDealFields(data: NewDealFields) {
  return {
    dealId: requireId(data.dealId, 'invalid-deal-id', 'dealId'),
    stageId: data.stageId === undefined ? undefined : requireId(data.stageId, 'invalid-stage-id', 'stageId'),
    title: requireText(data.title, 'invalid-title', 'title', TEXT_LIMITS.title),
    contact: optionalText(data.contact, 'invalid-contact', 'contact', TEXT_LIMITS.contact),
    amount: requireAmount(data.amount),
    currency: requireCurrency(data.currency),
    source: optionalText(data.source, 'invalid-source', 'source', TEXT_LIMITS.source),
    expectedCloseDate:
      data.expectedCloseDate === undefined ? undefined : requireExpectedCloseDate(data.expectedCloseDate),
  };
}

interface Origin {
  account: string;
  ownerId: string;
  kind: DealKind;
  parentDealId?: string;
}

/** The board checks shared by new and follow-on deals, then the event with only the fields given. */
function dealCreated(
  data: NewDealFields,
  fields: ReturnType<typeof requireNewDealFields>,
  origin: Origin,
): DealCreated {
  const { pipeline } = data;
  requireActivePipeline(pipeline);
  const stageId = fields.stageId ?? pipeline.stages[0]?.stageId;
  if (stageId === undefined) throw dealError('stage-not-found', 'The pipeline has no stages', { field: 'stageId' });
  requireLiveStage(pipeline, stageId, 'stageId');
  requirePipelineCurrency(pipeline, fields.currency);
  const created: DealCreatedData = {
    dealId: fields.dealId,
    pipelineId: pipeline.pipelineId,
    stageId,
    title: fields.title,
    account: origin.account,
    ...optionalField('contact', fields.contact),
    amount: fields.amount,
    currency: fields.currency,
    ownerId: origin.ownerId,
    ...optionalField('source', fields.source),
    ...optionalField('expectedCloseDate', fields.expectedCloseDate),
    ...optionalField('parentDealId', origin.parentDealId),
    kind: origin.kind,
  };
  return { type: 'DealCreated', data: created };
}

export function decideCreateDeal({ data }: CreateDeal, state: DealState): DealCreated[] {
  const fields = requireNewDealFields(data);
  const account = requireText(data.account, 'invalid-account', 'account', TEXT_LIMITS.account);
  const ownerId = requireId(data.ownerId, 'invalid-owner-id', 'ownerId');
  if (state.status !== 'none')
    throw dealError('deal-already-exists', 'The deal already exists', { dealId: state.dealId });
  return [dealCreated(data, fields, { account, ownerId, kind: 'new' })];
}

/**
 * Decides an up-sell or cross-sell from the won parent's state. `state` is the new deal's own state
 * (its stream as read, empty unless the id is already taken): a taken id is `deal-already-exists`.
 * The handler appends the event to `deal-<new id>` at the revision it read, so an id taken between
 * the read and the append is caught too (and decided again).
 */
export function decideFollowOnDeal(
  { data }: OpenFollowOnDeal,
  parent: DealState,
  state: DealState = initialDealState(),
): DealCreated[] {
  if (state.status !== 'none')
    throw dealError('deal-already-exists', `deal ${data.dealId} already exists`, { dealId: data.dealId });
  const fields = requireNewDealFields(data);
  if (!oneOf(FOLLOW_ON_KINDS, data.kind)) {
    throw dealError('invalid-follow-on-kind', 'kind must be upsell or cross-sell', { value: data.kind });
  }
  const account = optionalText(data.account, 'invalid-account', 'account', TEXT_LIMITS.account);
  const ownerId = data.ownerId === undefined ? undefined : requireId(data.ownerId, 'invalid-owner-id', 'ownerId');
  if (parent.status === 'none') throw dealError('parent-deal-not-found', 'The parent deal does not exist');
  if (parent.status !== 'won') {
    throw dealError('parent-deal-not-won', `Only a won deal can be grown; this one is ${parent.status}`, {
      parentDealId: parent.dealId,
      status: parent.status,
    });
  }
  if (fields.dealId === parent.dealId) {
    throw dealError('invalid-deal-id', 'A follow-on deal needs its own id', { field: 'dealId' });
  }
  return [
    dealCreated(data, fields, {
      account: account ?? parent.account,
      ownerId: ownerId ?? parent.ownerId,
      kind: data.kind,
      parentDealId: parent.dealId,
    }),
  ];
}
