/**
 * The shapes every aggregate in dealstream is written in: plain data and pure functions.
 *
 * A decider answers one question — "given what happened so far, what happens now?" — without
 * touching time, ids, databases or frameworks. Time and ids arrive inside the command.
 */

/** A past-tense fact, as stored: an explicit `type` string and plain JSON `data`. */
export type Event<Type extends string = string, Data extends object = object> = Readonly<{
  type: Type;
  data: Readonly<Data>;
}>;

/** An imperative request, as decided: an explicit `type` string and plain `data`. */
export type Command<Type extends string = string, Data extends object = object> = Readonly<{
  type: Type;
  data: Readonly<Data>;
}>;

export interface Decider<State, Cmd extends Command, Evt extends Event> {
  /** Returns the events that record the command's effect, or throws a DomainError. */
  decide(command: Cmd, state: State): Evt[];
  /** Folds one event into the state. Must accept every event `decide` ever produced. */
  evolve(state: State, event: Evt): State;
  initialState(): State;
}

/** Rebuilds a state by folding events over the decider's initial state. */
export function fold<State, Evt extends Event>(
  decider: Pick<Decider<State, never, Evt>, 'evolve' | 'initialState'>,
  events: Iterable<Evt>,
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
