import { randomUUID } from 'node:crypto';
import type { ApiHarness } from './api-harness.js';

export type FourDeals = Record<'a' | 'b' | 'c' | 'd', string>;

/**
 * The tampering suites' store, written over HTTP as `ops`: a two-stage pipeline (one event) and four
 * deals a–d of five events each — r0 created, r1 moved, r2 call, r3 value, r4 email — 21 events.
 */
export async function writeFourDeals(
  api: ApiHarness,
  ops: string,
): Promise<{ pipelineStream: string; deals: FourDeals }> {
  const stages = [randomUUID(), randomUUID()];
  const { body: pipeline } = await api
    .http()
    .post('/pipelines')
    .set('Authorization', ops)
    .send({
      name: 'P',
      currency: 'EUR',
      stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 50 })),
    })
    .expect(201);
  const deals: FourDeals = { a: '', b: '', c: '', d: '' };
  for (const key of Object.keys(deals) as (keyof FourDeals)[]) {
    const id = (
      await api
        .http()
        .post('/deals')
        .set('Authorization', ops)
        .send({ pipelineId: pipeline.id, title: key, account: 'A', amount: 100, currency: 'EUR' })
        .expect(201)
    ).body.id;
    deals[key] = id;
    await api.http().post(`/deals/${id}/stage`).set('Authorization', ops).send({ toStageId: stages[1] }).expect(200);
    await api.http().post(`/deals/${id}/activities`).set('Authorization', ops).send({ kind: 'call' }).expect(201);
    await api.http().patch(`/deals/${id}`).set('Authorization', ops).send({ amount: 200 }).expect(200);
    await api.http().post(`/deals/${id}/activities`).set('Authorization', ops).send({ kind: 'email' }).expect(201);
  }
  return { pipelineStream: pipeline.streamId, deals };
}
