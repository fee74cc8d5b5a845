import { PackWriter, prepareEvents } from '@dealstream/event-store';
import { plannedEvents, plannedFromPrepared, type PlannedEvent } from './imported-stream.js';

describe('plannedFromPrepared (a plan the import worker prepared, read back by the run)', () => {
  it('gives back the planned events that were prepared', () => {
    const ref = { file: 'export.ndjson', line: 7 };
    const plan: PlannedEvent[] = [
      {
        eventId: '0b3f6c1e-5d2a-5b7e-9c4f-1a2b3c4d5e6f',
        type: 'DealCreated',
        data: { title: 'tab\there "quoted" \\ ü €', amount: 120000, nested: { a: [1, 2] }, none: null },
        occurredAt: new Date('2021-03-04T05:06:07.089Z'),
        ref,
        sourceRecordId: 'D1',
        sourceActor: 'rep "7"',
        commandId: '9d8c7b6a-5f4e-5d3c-8b2a-1f0e9d8c7b6a',
      },
      {
        eventId: '1c4a7d2f-6e3b-5c8f-8d5a-2b3c4d5e6f70',
        type: 'DealWon',
        data: {},
        occurredAt: new Date('2021-03-05T00:00:00.000Z'),
        ref: { file: 'export.ndjson', line: 9 },
        sourceRecordId: 'D1-w',
        sourceActor: 'rep7',
        commandId: 'ad9e8f7c-6b5a-5e4d-9c3b-2a1f0e9d8c7b',
      },
    ];
    const context = { importId: 'import-1', sourceSystem: 'acme', actorId: 'analyst' };
    const prepared = structuredClone(prepareEvents('deal-1', plannedEvents(context, plan)));
    expect(
      plannedFromPrepared(
        prepared,
        plan.map((event) => event.type),
        plan.map((event) => event.ref),
      ),
    ).toEqual(plan);
    // Packed into bytes and transferred, as the import worker sends them since 2026-12-07 f.
    const writer = new PackWriter();
    const packed = writer.pack(prepareEvents('deal-1', plannedEvents(context, plan)));
    const sent = structuredClone(packed, { transfer: writer.take() });
    expect(
      plannedFromPrepared(
        sent,
        plan.map((event) => event.type),
        plan.map((event) => event.ref),
      ),
    ).toEqual(plan);
  });
});
