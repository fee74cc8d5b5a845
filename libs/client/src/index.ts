import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api-schema.js';

export type { components, operations, paths } from './api-schema.js';

/**
 * The media types the client reads: JSON answers and problem+json errors. Reports also answer CSV and
 * NDJSON (Accept / format=, docs/metrics.md "Export"); those are downloads, not typed data.
 */
type JsonMedia = 'application/json' | 'application/problem+json';

/** A typed dealstream client: every route, parameter, body and answer as docs/openapi.json says. */
export type DealstreamClient = Client<paths, JsonMedia>;

export interface DealstreamClientOptions {
  /** Where the API is, e.g. `http://localhost:3000`. */
  readonly baseUrl: string;
  /** A bearer token (`npm run token`); omitted for the public routes only. */
  readonly token?: string;
  /** A fetch to use instead of the global one (tests, instrumentation). */
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * The client the console and integrators use: openapi-fetch over the types openapi-typescript
 * generates from the committed contract (`npm run openapi` regenerates both).
 *
 * @example
 * const api = createDealstreamClient({ baseUrl: 'http://localhost:3000', token });
 * const { data, error } = await api.POST('/deals/{id}/stage', { params: { path: { id } }, body: { toStageId } });
 */
export function createDealstreamClient(options: DealstreamClientOptions): DealstreamClient {
  return createClient<paths, JsonMedia>({
    baseUrl: options.baseUrl,
    ...(options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
