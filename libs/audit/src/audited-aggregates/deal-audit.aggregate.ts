import { dealDecider, dealStreamName, type DealEvent, type DealState } from '@dealstream/deals-domain';
import type { AuditedAggregate } from './audited-aggregate.js';

/** Deals as the audit views see them: replayed through `dealDecider.evolve`, owners are identities. */
export const DEAL_AUDIT: AuditedAggregate<DealState, DealEvent> = {
  kind: 'deal',
  streamName: dealStreamName,
  initialState: dealDecider.initialState,
  evolve: dealDecider.evolve,
  diffView: ({ version: _version, ...fields }) => fields,
  // ownerId defaults to the creating principal, so it names a person just like actorId does.
  identityDataFields: { DealCreated: ['ownerId'], DealOwnerReassigned: ['ownerId', 'previousOwnerId'] },
  identityStateFields: ['ownerId'],
};
