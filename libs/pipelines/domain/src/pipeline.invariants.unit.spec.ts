import { fold, isDomainError } from '@dealstream/decider';
import fc from 'fast-check';
import type { PipelineCommand } from './pipeline.commands.js';
import { pipelineDecider } from './pipeline.decider.js';
import type { PipelineEvent } from './pipeline.events.js';
import { resolveLiveStageId } from './pipeline.snapshot.js';
import type { PipelineState } from './pipeline.state.js';
import { definePipeline, numberedStages } from './testing/pipeline.fixtures.js';
import { MAX_STAGES, nameKey } from './pipeline.validation.js';

// Small pools make collisions (duplicate ids and names, removed ids) frequent.
const stageId = fc.constantFrom('s-1', 's-2', 's-3', 's-4', 's-5', 's-6');
const name = fc.constantFrom('Lead', 'lead', ' Demo ', 'Won', 'Stage 1', '', 'Proposal');
const percent = fc.integer({ min: -5, max: 105 });

/** Some commands are only meaningful relative to the state they meet, so they are built late. */
type CommandOrBuilder = PipelineCommand | ((state: PipelineState) => PipelineCommand);

/** A valid reorder: the current stage ids rotated by k (a random subset would almost never be valid). */
const rotateCurrentStages = fc.integer({ min: 1, max: 5 }).map((k) => (state: PipelineState): PipelineCommand => {
  const ids = state.stages.map((stage) => stage.stageId);
  const shift = k % Math.max(ids.length, 1);
  return { type: 'ReorderStages', data: { stageIds: [...ids.slice(shift), ...ids.slice(0, shift)] } };
});

const command: fc.Arbitrary<CommandOrBuilder> = fc.oneof(
  rotateCurrentStages,
  fc.record({ stageId, name, probability: percent }).chain((stage) =>
    fc.option(fc.integer({ min: -1, max: 8 }), { nil: undefined }).map((index): PipelineCommand => ({
      type: 'AddStage',
      data: index === undefined ? { stage } : { stage, index },
    })),
  ),
  fc.record({ stageId, name }).map((data): PipelineCommand => ({ type: 'RenameStage', data })),
  fc
    .shuffledSubarray(['s-1', 's-2', 's-3', 's-4', 's-5', 's-6'])
    .map((stageIds): PipelineCommand => ({ type: 'ReorderStages', data: { stageIds } })),
  fc.record({ stageId, moveOpenDealsTo: stageId }).map((data): PipelineCommand => ({ type: 'RemoveStage', data })),
  fc
    .record({ stageId, probability: percent })
    .map((data): PipelineCommand => ({ type: 'ChangeStageProbability', data })),
  fc
    .record({ maxDaysInStage: fc.integer({ min: -1, max: 3 }), targetConversion: percent }, { requiredKeys: [] })
    .chain((goal) => stageId.map((id): PipelineCommand => ({ type: 'SetStageGoal', data: { stageId: id, goal } }))),
);

function expectInvariants(state: PipelineState): void {
  expect(state.status).toBe('active');
  expect(state.stages.length).toBeGreaterThanOrEqual(1);
  expect(state.stages.length).toBeLessThanOrEqual(MAX_STAGES);
  const ids = state.stages.map((stage) => stage.stageId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(state.stages.map((stage) => nameKey(stage.name))).size).toBe(ids.length);
  for (const stage of state.stages) {
    expect(stage.name).toBe(stage.name.trim());
    expect(stage.name.length).toBeGreaterThan(0);
    expect(Number.isInteger(stage.probability) && stage.probability >= 0 && stage.probability <= 100).toBe(true);
  }
  for (const removedId of Object.keys(state.removedStages)) {
    expect(ids).not.toContain(removedId);
    expect(ids).toContain(resolveLiveStageId(state, removedId));
  }
}

describe('pipeline invariants under any sequence of commands', () => {
  it('hold after every accepted command, and refusals are always DomainErrors', () => {
    const accepted = new Set<string>();
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        const defined = pipelineDecider.decide(
          definePipeline({ stages: numberedStages(3) }),
          pipelineDecider.initialState(),
        );
        const history: PipelineEvent[] = [...defined];
        for (const next of commands) {
          try {
            const state = fold(pipelineDecider, history);
            const events = pipelineDecider.decide(typeof next === 'function' ? next(state) : next, state);
            history.push(...events);
            for (const event of events) accepted.add(event.type);
          } catch (error) {
            if (!isDomainError(error)) throw error;
          }
          expectInvariants(fold(pipelineDecider, history));
        }
      }),
      { numRuns: 300 },
    );
    // Guards the generator itself: a property that only ever sees refusals proves nothing.
    expect([...accepted].sort()).toEqual([
      'StageAdded',
      'StageGoalSet',
      'StageProbabilityChanged',
      'StageRemoved',
      'StageRenamed',
      'StagesReordered',
    ]);
  });
});
