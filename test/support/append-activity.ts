import { randomUUID } from 'node:crypto';
import type { EventStore, GlobalPosition } from '@dealstream/event-store';

/** An `ActivityLogged` appended to deal `dealId`'s stream (a new deal's when not given); its position. */
export async function appendActivity(store: EventStore, dealId: string = randomUUID()): Promise<GlobalPosition> {
  const appended = await store.appendToStream(
    `deal-${dealId}`,
    [
      {
        eventId: randomUUID(),
        type: 'ActivityLogged',
        data: { activityId: randomUUID(), kind: 'call' },
        metadata: { actorId: 'test', occurredAt: new Date('2026-03-01T00:00:00Z') },
      },
    ],
    { expectedRevision: 'any' },
  );
  return appended.position;
}
