import type { components, DealstreamClient } from '@dealstream/client';
import { ok } from './api.js';

export type PipelineSummary = components['schemas']['PipelineSummaryDto'];

/** Pages the console reads at most (200 pipelines each): a list longer than that is cut, and says so. */
const MAX_PAGES = 10;

/** Every pipeline (GET /pipelines, page by page), in name order; `more` when the list was cut. */
export async function listPipelines(api: DealstreamClient): Promise<{ pipelines: PipelineSummary[]; more: boolean }> {
  const pipelines: PipelineSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const data = ok(await api.GET('/pipelines', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }));
    pipelines.push(...data.pipelines);
    if (!data.nextCursor) return { pipelines, more: false };
    cursor = data.nextCursor;
  }
  return { pipelines, more: true };
}
