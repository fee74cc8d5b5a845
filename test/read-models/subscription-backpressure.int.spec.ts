import { EsdbEventStore, START, type RecordedEvent } from '@dealstream/event-store';
import { SubscriptionSupervisor } from '@dealstream/read-models';
import { ScriptedEsdbServer } from '@dealstream/event-store/testing';

/*
 * Backpressure on the EventStoreDB profile: catching up from the start of a large store while the
 * runner is behind must hold a bounded number of events, not the store. The $all subscription runs
 * against the scripted gRPC server (the client's own protocol definitions; the server honours HTTP/2
 * flow control as a real one does) — it is not EventStoreDB, only the transport and the adapter's
 * and supervisor's flow control are under test here.
 */
describe('SubscriptionSupervisor backpressure over the EventStoreDB adapter', () => {
  const EVENTS = 6000;
  const MAX_BUFFERED = 100;
  let server: ScriptedEsdbServer;
  let store: EsdbEventStore;
  let supervisor: SubscriptionSupervisor;

  beforeAll(async () => {
    server = await new ScriptedEsdbServer().start();
    server.addEvents('deal-big', EVENTS);
    store = new EsdbEventStore(server.connectionString, { timeoutMs: 2000 });
  });

  afterAll(async () => {
    await supervisor?.stop();
    await store.close();
    await server.stop();
  });

  it('pauses while the runner is behind (held events and events sent stay bounded), then delivers every event once, in order', async () => {
    supervisor = new SubscriptionSupervisor({ store, maxBuffered: MAX_BUFFERED, silenceMs: 60_000 });
    supervisor.start(START);
    await waitFor(() => supervisor.bufferedCount >= MAX_BUFFERED);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a runner that is behind
    expect(supervisor.bufferedCount).toBeLessThanOrEqual(MAX_BUFFERED + 1);
    // What the transport carries is bounded by flow control windows, not by the store's size.
    const sentWhilePaused = server.subscriptionSent;
    expect(sentWhilePaused).toBeLessThan(EVENTS / 2);

    const seen: RecordedEvent[] = [];
    let maxHeld = 0;
    while (seen.length < EVENTS) {
      maxHeld = Math.max(maxHeld, supervisor.bufferedCount);
      const batch = await supervisor.take(50, 2000);
      if (batch.length === 0) throw new Error(`no event within 2 s after ${seen.length}`);
      seen.push(...batch);
    }
    expect(maxHeld).toBeLessThanOrEqual(MAX_BUFFERED + 1);
    expect(seen.map((event) => (event.data as { n: number }).n)).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
    expect(supervisor.status().restarts).toBe(0);
  });
});

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
