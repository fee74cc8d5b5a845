import { randomUUID } from 'node:crypto';
import type { EventStore } from '@dealstream/event-store';
import { dealStreamName } from '@dealstream/deals-domain';

/**
 * A poison event already stored (written before the door refused such values, or by another version):
 * a deal created with a close date in the year 0, which no date column can hold (SQLSTATE 22008 when
 * its rows are written). Returns the deal's id.
 */
export async function appendPoison(store: EventStore, pipelineId: string, stageId: string): Promise<string> {
  const dealId = randomUUID();
  await store.appendToStream(
    dealStreamName(dealId),
    [
      {
        eventId: randomUUID(),
        type: 'DealCreated',
        data: {
          dealId,
          pipelineId,
          stageId,
          title: 'Year zero',
          account: 'Acme',
          amount: 5,
          currency: 'EUR',
          ownerId: 'o',
          expectedCloseDate: '0000-01-01',
          kind: 'new',
        },
        metadata: { actorId: 'old-version', occurredAt: new Date('2026-02-01T00:00:00Z') },
      },
    ],
    { expectedRevision: 'no_stream' },
  );
  return dealId;
}
