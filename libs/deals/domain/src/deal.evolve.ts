import type { DealEvent } from './deal.events.js';
import type { DealState } from './deal.state.js';

const notClosed = { closedReason: null, closedNote: null, competitor: null, wonAmount: null } as const;

function applyEvent(state: DealState, event: DealEvent): DealState {
  switch (event.type) {
    case 'DealCreated': {
      const { contact, source, expectedCloseDate, parentDealId, ...fields } = event.data;
      return {
        ...state,
        ...fields,
        status: 'open',
        contact: contact ?? null,
        source: source ?? null,
        expectedCloseDate: expectedCloseDate ?? null,
        parentDealId: parentDealId ?? null,
      };
    }
    case 'DealQualified':
      return { ...state, qualification: { bant: event.data.bant, score: event.data.score } };
    case 'DealDisqualified':
      return { ...state, status: 'disqualified', closedReason: event.data.reason, closedNote: event.data.note ?? null };
    case 'StageAdvanced':
      return { ...state, stageId: event.data.toStageId, previousStageId: event.data.fromStageId };
    case 'DealValueChanged':
      return { ...state, amount: event.data.amount };
    case 'DealOwnerReassigned':
      return { ...state, ownerId: event.data.ownerId };
    case 'ExpectedCloseDateChanged':
      return { ...state, expectedCloseDate: event.data.expectedCloseDate };
    case 'ActivityLogged':
      return {
        ...state,
        activityCount: state.activityCount + 1,
        lastActivity: { activityId: event.data.activityId, kind: event.data.kind },
      };
    case 'DealWon':
      return {
        ...state,
        status: 'won',
        amount: event.data.amount,
        wonAmount: event.data.amount,
        closedReason: event.data.reason ?? null,
      };
    case 'DealLost':
      return { ...state, status: 'lost', closedReason: event.data.reason, competitor: event.data.competitor ?? null };
    case 'DealReopened': {
      const moved = event.data.toStageId !== state.stageId;
      return {
        ...state,
        ...notClosed,
        status: 'open',
        stageId: event.data.toStageId,
        previousStageId: moved ? state.stageId : state.previousStageId,
        reopenCount: state.reopenCount + 1,
      };
    }
    default: {
      // Unknown types (from a newer writer) are skipped, not fatal, so old readers keep working.
      const _exhaustive: never = event;
      return state;
    }
  }
}

export function evolveDeal(state: DealState, event: DealEvent): DealState {
  return { ...applyEvent(state, event), version: state.version + 1 };
}
