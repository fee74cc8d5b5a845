import {
  START,
  comparePositions,
  type EventSubscriptionHandlers,
  type GlobalPosition,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribableEventStore,
} from '@dealstream/event-store';
import { SubscriptionSupervisor } from './subscription-supervisor.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const at = (n: number): GlobalPosition => ({ major: BigInt(n), minor: BigInt(n) });
const event = (n: number) => ({ position: at(n) }) as unknown as RecordedEvent;

/**
 * The supervisor's own logic over a store that is only a list of positions: `subscribeToAll`
 * delivers the first `deliverUpTo` events after the start and then says nothing. (The supervisor
 * over the real SQL store with faults is test/read-models/subscription-runner.int.spec.ts.)
 */
function storeOf(count: number, deliverUpTo = count) {
  const events = Array.from({ length: count }, (_, i) => event(i + 1));
  const starts: GlobalPosition[] = [];
  const store = {
    subscribeToAll(after: GlobalPosition, handlers: EventSubscriptionHandlers) {
      starts.push(after);
      queueMicrotask(() => {
        for (const e of events.slice(0, deliverUpTo)) if (comparePositions(e.position, after) > 0) handlers.onEvent(e);
      });
      return { close: async () => undefined, pause: () => undefined, resume: () => undefined };
    },
    async readAll({ after = START, limit }: ReadAllOptions) {
      const newer = events.filter((e) => comparePositions(e.position, after) > 0).slice(0, limit);
      return { events: newer, cursor: newer.at(-1)?.position ?? after };
    },
  } as unknown as SubscribableEventStore;
  return { store, starts };
}

describe('SubscriptionSupervisor', () => {
  it('does not call a subscription silent while the runner still applies what it delivered', async () => {
    // Everything is delivered and taken; the runner's batch then takes longer than the silence bound
    // before it commits. The store holds events after the commit, but the subscription delivered them
    // all: that is a slow runner, not a stuck subscription (a loaded CI machine restarted it here).
    const { store, starts } = storeOf(3);
    const supervisor = new SubscriptionSupervisor({ store, silenceMs: 60 });
    supervisor.start(START);
    const taken = await supervisor.take(10, 1000);
    expect(taken.map((e) => e.position)).toEqual([at(1), at(2), at(3)]);

    await pause(300); // five silence bounds, nothing committed
    expect(supervisor.status()).toMatchObject({ state: 'live', restarts: 0, lastError: null });
    supervisor.commit(at(3));
    await pause(150);
    await supervisor.stop();
    expect(supervisor.status().restarts).toBe(0);
    expect(starts).toEqual([START]);
  });

  it('resubscribes from the commit when a subscription stops delivering what the store holds', async () => {
    const { store, starts } = storeOf(3, 2);
    const supervisor = new SubscriptionSupervisor({ store, silenceMs: 60, initialBackoffMs: 5 });
    supervisor.start(START);
    expect((await supervisor.take(10, 1000)).map((e) => e.position)).toEqual([at(1), at(2)]);
    supervisor.commit(at(1)); // the runner committed one of the two so far

    const deadline = Date.now() + 5000;
    while (starts.length < 2 && Date.now() < deadline) await pause(10);
    const status = supervisor.status();
    await supervisor.stop();
    expect(status.restarts).toBe(1);
    expect(status.lastError).toBe('subscription silent for 60 ms while the store has newer events');
    expect(starts[0]).toEqual(START);
    expect(starts[1]).toEqual(at(1));
  });
});
