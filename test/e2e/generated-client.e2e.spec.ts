import { fileURLToPath } from 'node:url';
import { createDealstreamClient, type DealstreamClient } from '@dealstream/client';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { OpenApiValidator } from '../support/openapi-validator.js';

/**
 * The client integrators generate from docs/openapi.json (libs/client: openapi-typescript types +
 * openapi-fetch), over real HTTP: a create → move → win → history round trip with no casts — the
 * types alone say what to send and what comes back. Every exchange is also checked against the
 * document.
 */
describe('the generated client (openapi-typescript + openapi-fetch) over real HTTP', () => {
  let api: ApiHarness;
  let client: DealstreamClient;
  const validator = new OpenApiValidator(fileURLToPath(new URL('../../docs/openapi.json', import.meta.url)));
  const problems: string[] = [];

  beforeAll(async () => {
    api = await startApiOnPostgres();
    const token = await api.token(['ops', 'sales', 'auditor'], 'carla-client');
    const checkedFetch: typeof fetch = async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      const requestBody: unknown = request.body ? await request.clone().json() : undefined;
      const response = await fetch(request);
      const text = await response.clone().text();
      problems.push(
        ...validator.check({
          method: request.method,
          url: request.url,
          requestBody,
          status: response.status,
          contentType: response.headers.get('content-type') ?? undefined,
          body: text ? (JSON.parse(text) as unknown) : undefined,
        }),
      );
      return response;
    };
    client = createDealstreamClient({ baseUrl: await api.baseUrl(), token, fetch: checkedFetch });
  });

  afterAll(async () => {
    await api.close();
  });

  it('defines a pipeline, creates a deal, moves it, wins it and reads its history — typed end to end', async () => {
    const pipeline = await client.POST('/pipelines', {
      body: {
        name: 'Typed client',
        currency: 'EUR',
        stages: [
          { name: 'Prospecting', probability: 10 },
          { name: 'Proposal', probability: 60 },
        ],
      },
    });
    expect(pipeline.error).toBeUndefined();
    const pipelineId = pipeline.data!.id;

    const board = await client.GET('/pipelines/{id}/board', {
      params: { path: { id: pipelineId }, query: { minPosition: pipeline.data!.position } },
    });
    const [prospecting, proposal] = board.data!.stages;
    expect([prospecting.name, proposal.name]).toEqual(['Prospecting', 'Proposal']);

    const created = await client.POST('/deals', {
      body: { pipelineId, title: 'Renewal', account: 'Acme', amount: 120_000, currency: 'EUR' },
    });
    expect(created.response.status).toBe(201);
    const dealId = created.data!.id;

    const moved = await client.POST('/deals/{id}/stage', {
      params: { path: { id: dealId }, header: { 'If-Match': `"${created.data!.revision}"` } },
      body: { toStageId: proposal.stageId },
    });
    expect(moved.data!.events).toEqual(['StageAdvanced']);

    const won = await client.POST('/deals/{id}/win', { params: { path: { id: dealId } }, body: {} });
    expect(won.data!.events).toEqual(['DealWon']);

    const deal = await client.GET('/deals/{id}', {
      params: { path: { id: dealId }, query: { minPosition: won.data!.position } },
    });
    const view = deal.data!;
    expect([view.status, view.stageId, view.wonAmount, view.revision]).toEqual(['won', proposal.stageId, 120_000, '2']);

    const history = await client.GET('/deals/{id}/history', { params: { path: { id: dealId } } });
    expect(history.data!.events.map((event) => [event.type, event.revision, event.actorId])).toEqual([
      ['DealCreated', '0', 'carla-client'],
      ['StageAdvanced', '1', 'carla-client'],
      ['DealWon', '2', 'carla-client'],
    ]);

    const diff = await client.GET('/deals/{id}/diff', { params: { path: { id: dealId }, query: { from: 1, to: 3 } } });
    const status = diff.data!.changes.find((change) => change.field === 'status');
    expect([status?.before, status?.after]).toEqual(['open', 'won']);

    expect(problems).toEqual([]);
  });

  it('answers a refusal as the documented problem+json, typed on the error side', async () => {
    const refused = await client.POST('/deals/{id}/stage', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
      body: { toStageId: '00000000-0000-4000-8000-000000000001' },
    });
    expect(refused.response.status).toBe(404);
    expect(refused.error?.code).toBe('deal-not-found');
    expect(problems).toEqual([]);
  });
});
