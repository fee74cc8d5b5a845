import type { DealstreamClient } from '@dealstream/client';
import { can, type Session } from './session.js';

export interface KnownPipeline {
  readonly id: string;
  readonly name: string;
}

const KEY = 'dealstream.pipelines';

/**
 * The API has no "list pipelines" route: the console remembers the pipelines opened or created in
 * this browser, and a token that may read the event feed (ops, auditor, admin) also finds every
 * pipeline defined so far from its PipelineDefined events.
 */
export async function knownPipelines(api: DealstreamClient, session: Session): Promise<KnownPipeline[]> {
  const remembered = rememberedPipelines();
  if (!can(session, 'events:read')) return remembered;
  const found = new Map(remembered.map((pipeline) => [pipeline.id, pipeline]));
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const { data, error } = await api.GET('/events', {
      params: { query: { category: 'pipeline', type: 'PipelineDefined', limit: 1000, ...(after ? { after } : {}) } },
    });
    if (error || !data) break;
    for (const event of data.events) {
      const id = event.streamId.slice('pipeline-'.length);
      const name = typeof event.data['name'] === 'string' ? event.data['name'] : id;
      found.set(id, { id, name });
    }
    if (data.events.length < 1000 || data.next === after) break;
    after = data.next;
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function rememberedPipelines(): KnownPipeline[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as KnownPipeline[]).filter((p) => typeof p.id === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberPipeline(pipeline: KnownPipeline): void {
  const others = rememberedPipelines().filter((known) => known.id !== pipeline.id);
  localStorage.setItem(KEY, JSON.stringify([pipeline, ...others].slice(0, 50)));
}
