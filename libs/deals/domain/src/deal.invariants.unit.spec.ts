import { fold, isDomainError } from '@dealstream/decider';
import { findStage, isStageRemoved } from '@dealstream/pipelines-domain';
import fc from 'fast-check';
import type { DealCommand } from './deal.commands.js';
import { dealDecider } from './deal.decider.js';
import type { DealEvent } from './deal.events.js';
import type { DealState } from './deal.state.js';
import { bant, board, created, removeStage, STAGE } from './testing/deal.fixtures.js';

const pipeline = board(removeStage(STAGE.negotiation, STAGE.closing));
const stageId = fc.constantFrom(...Object.values(STAGE), 'stage-unknown');
const amount = fc.oneof(fc.nat({ max: 10_000_000 }), fc.constantFrom(-1, 0.5));

const command: fc.Arbitrary<DealCommand> = fc.oneof(
  stageId.map((toStageId): DealCommand => ({ type: 'MoveDealToStage', data: { toStageId, pipeline } })),
  fc
    .record({ amount, currency: fc.constantFrom('EUR', 'USD') })
    .map((data): DealCommand => ({ type: 'ChangeDealValue', data })),
  fc
    .record({ budget: fc.boolean(), authority: fc.boolean(), need: fc.boolean(), timeline: fc.boolean() })
    .map((answers): DealCommand => ({ type: 'QualifyDeal', data: { bant: bant(answers) } })),
  fc
    .constantFrom('user-alice', 'user-bob')
    .map((ownerId): DealCommand => ({ type: 'ReassignDealOwner', data: { ownerId } })),
  fc
    .constantFrom('2026-01-31', null)
    .map((date): DealCommand => ({ type: 'ChangeExpectedCloseDate', data: { expectedCloseDate: date } })),
  fc.constant<DealCommand>({ type: 'LogActivity', data: { activityId: 'act', kind: 'note' } }),
  fc
    .option(amount, { nil: undefined })
    .map((a): DealCommand => ({ type: 'WinDeal', data: a === undefined ? {} : { amount: a } })),
  fc.constant<DealCommand>({ type: 'LoseDeal', data: { reason: 'Price' } }),
  fc.constant<DealCommand>({ type: 'DisqualifyDeal', data: { reason: 'no-need' } }),
  fc.option(stageId, { nil: undefined }).map((toStageId): DealCommand => ({
    type: 'ReopenDeal',
    data: toStageId === undefined ? { pipeline } : { pipeline, toStageId },
  })),
);

function expectInvariants(before: DealState, after: DealState): void {
  expect(after.status).not.toBe('none');
  expect(after.currency).toBe('EUR');
  expect(Number.isSafeInteger(after.amount) && after.amount >= 0).toBe(true);
  expect(findStage(pipeline, after.stageId) !== undefined || isStageRemoved(pipeline, after.stageId)).toBe(true);
  if (before.status === 'won') {
    // A won deal is final: only its owner and activities may still change.
    expect({ ...after, ownerId: '', activityCount: 0, lastActivity: null, version: 0 }).toStrictEqual({
      ...before,
      ownerId: '',
      activityCount: 0,
      lastActivity: null,
      version: 0,
    });
  }
  if (after.status === 'won') expect(after.wonAmount).toBe(after.amount);
  if (before.status !== 'open' && after.status !== before.status) expect(after.status).toBe('open');
}

describe('deal invariants under any sequence of commands', () => {
  it('hold after every command, and refusals are always DomainErrors', () => {
    const accepted = new Set<string>();
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
        const history: DealEvent[] = [created];
        for (const next of commands) {
          const before = fold(dealDecider, history);
          try {
            const events = dealDecider.decide(next, before);
            history.push(...events);
            for (const event of events) accepted.add(event.type);
          } catch (error) {
            if (!isDomainError(error)) throw error;
          }
          expectInvariants(before, fold(dealDecider, history));
        }
      }),
      { numRuns: 300 },
    );
    // Guards the generator itself: a property that only ever sees refusals proves nothing.
    expect(accepted.size).toBe(10);
  });
});
