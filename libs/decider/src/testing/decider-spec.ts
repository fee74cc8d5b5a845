import type { Command, Decider, Event } from '../decider.js';
import { fold } from '../decider.js';
import { isDomainError, type DomainError, type DomainErrorKind } from '../domain-error.js';

/**
 * Given/when/then for deciders, so a spec reads like the business rule it pins down:
 *
 * ```ts
 * DeciderSpec.for(dealDecider).given([created]).when(winDeal).then([won]);
 * DeciderSpec.for(dealDecider).given([created, won]).when(winDeal).thenThrows('deal-closed');
 * ```
 *
 * It uses Jest's global `expect` only when an assertion runs, so importing it costs nothing outside
 * a test run. `then` deliberately returns nothing: an object with a `then` method that returned
 * itself would be mistaken for a promise.
 */
export const DeciderSpec = {
  for<State, Cmd extends Command, Evt extends Event>(decider: Decider<State, Cmd, Evt>) {
    return {
      given(history: readonly Evt[]) {
        return {
          when(command: Cmd): DeciderExpectation<State, Cmd, Evt> {
            return new DeciderExpectation(decider, history, command);
          },
        };
      },
    };
  },
};

export interface ExpectedDomainError {
  kind?: DomainErrorKind;
  /** Matched as a subset, so a spec names only the details it cares about. */
  details?: Record<string, unknown>;
}

export class DeciderExpectation<State, Cmd extends Command, Evt extends Event> {
  constructor(
    private readonly decider: Decider<State, Cmd, Evt>,
    private readonly history: readonly Evt[],
    private readonly command: Cmd,
  ) {}

  /**
   * Asserts the exact events and that `evolve` accepts them on top of the history. Strict equality
   * refuses `{ note: undefined }` for `{}`, so what is decided is exactly what a JSON round trip
   * gives back (hashes and audit diffs are computed over both).
   */
  then(expected: readonly Evt[]): void {
    const produced = this.run();
    expect(produced).toStrictEqual(expected);
    fold(this.decider, [...this.history, ...produced]);
  }

  /** An accepted command that changes nothing: idempotent retries and no-op edits. */
  thenNothingHappens(): void {
    this.then([]);
  }

  /** Asserts the state after the history plus the produced events (subset match). */
  thenState(expected: Partial<State>): void {
    const produced = this.run();
    expect(fold(this.decider, [...this.history, ...produced])).toMatchObject(expected);
  }

  thenThrows(code: string, expected: ExpectedDomainError = {}): DomainError {
    let caught: unknown;
    try {
      this.run();
    } catch (error) {
      caught = error;
    }
    if (!isDomainError(caught)) {
      throw new Error(
        `Expected DomainError '${code}', got ${caught === undefined ? 'no error' : caught instanceof Error ? caught.message : JSON.stringify(caught)}`,
      );
    }
    expect(caught.code).toBe(code);
    if (expected.kind) expect(caught.kind).toBe(expected.kind);
    if (expected.details) expect(caught.details).toMatchObject(expected.details);
    return caught;
  }

  private run(): Evt[] {
    const state = fold(this.decider, this.history);
    return this.decider.decide(this.command, state);
  }
}
