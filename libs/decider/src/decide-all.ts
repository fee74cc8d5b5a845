import type { Command, Decider, Event } from './decider.js';

/**
 * Decides several commands as one change (e.g. a PATCH touching amount and owner): each is decided
 * on the state left by the previous ones, and all their events are appended together or not at all.
 */
export function decideAll<State, Cmd extends Command, Evt extends Event>(
  decider: Pick<Decider<State, Cmd, Evt>, 'decide' | 'evolve'>,
  commands: readonly Cmd[],
  state: State,
): Evt[] {
  const events: Evt[] = [];
  let current = state;
  for (const command of commands) {
    const decided = decider.decide(command, current);
    for (const event of decided) current = decider.evolve(current, event);
    events.push(...decided);
  }
  return events;
}
