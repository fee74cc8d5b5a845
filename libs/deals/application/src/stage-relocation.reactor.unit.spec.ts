import type { EventStore } from '@dealstream/event-store';
import { StageRelocationReactor } from './stage-relocation.reactor.js';

describe('StageRelocationReactor.calledForBy', () => {
  const reactor = new StageRelocationReactor(() => Promise.resolve([]), {} as EventStore);

  it('a batch of only events that leave pipeline, stage and status alone calls for no run', () => {
    expect(reactor.calledForBy([])).toBe(false);
    expect(reactor.calledForBy(['ActivityLogged'])).toBe(false);
    expect(
      reactor.calledForBy([
        'ActivityLogged',
        'DealValueChanged',
        'DealOwnerReassigned',
        'ExpectedCloseDateChanged',
        'DealQualified',
      ]),
    ).toBe(false);
  });

  it('any event that may place a deal, remove a stage or change a pipeline — or one it does not know — calls for a run', () => {
    for (const type of [
      'DealCreated',
      'StageAdvanced',
      'DealReopened',
      'DealWon',
      'DealLost',
      'DealDisqualified',
      'StageRemoved',
      'PipelineArchived',
      'SomethingNew',
    ])
      expect([type, reactor.calledForBy(['ActivityLogged', type])]).toEqual([type, true]);
  });
});
