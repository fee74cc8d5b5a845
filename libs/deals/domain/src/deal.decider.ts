import type { Decider } from '@dealstream/decider';
import { decideLoseDeal, decideReopenDeal, decideWinDeal } from './deal-closing.decider.js';
import { decideCreateDeal } from './deal-creation.decider.js';
import {
  decideChangeDealValue,
  decideChangeExpectedCloseDate,
  decideLogActivity,
  decideReassignDealOwner,
} from './deal-details.decider.js';
import { decideDisqualifyDeal, decideMoveDealToStage, decideQualifyDeal } from './deal-progress.decider.js';
import type { DealCommand } from './deal.commands.js';
import type { DealEvent } from './deal.events.js';
import { evolveDeal } from './deal.evolve.js';
import { initialDealState, type DealState } from './deal.state.js';

export function decideDeal(command: DealCommand, state: DealState): DealEvent[] {
  switch (command.type) {
    case 'CreateDeal':
      return decideCreateDeal(command, state);
    case 'QualifyDeal':
      return decideQualifyDeal(command, state);
    case 'DisqualifyDeal':
      return decideDisqualifyDeal(command, state);
    case 'MoveDealToStage':
      return decideMoveDealToStage(command, state);
    case 'ChangeDealValue':
      return decideChangeDealValue(command, state);
    case 'ReassignDealOwner':
      return decideReassignDealOwner(command, state);
    case 'ChangeExpectedCloseDate':
      return decideChangeExpectedCloseDate(command, state);
    case 'LogActivity':
      return decideLogActivity(command, state);
    case 'WinDeal':
      return decideWinDeal(command, state);
    case 'LoseDeal':
      return decideLoseDeal(command, state);
    case 'ReopenDeal':
      return decideReopenDeal(command, state);
    default: {
      const _exhaustive: never = command;
      throw new Error(`Unknown deal command: ${(_exhaustive as { type: string }).type}`);
    }
  }
}

export const dealDecider: Decider<DealState, DealCommand, DealEvent> = {
  decide: decideDeal,
  evolve: evolveDeal,
  initialState: initialDealState,
};
