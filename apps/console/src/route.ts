import { useEffect, useState } from 'react';

/** The console's pages live in the fragment (`#/pipelines/<id>`), so the API serves one page and no fallback. */
export type Route =
  | { readonly page: 'home' }
  | { readonly page: 'board'; readonly pipelineId: string }
  | { readonly page: 'funnel'; readonly pipelineId: string }
  | { readonly page: 'deal'; readonly dealId: string };

const UUID = '[0-9a-fA-F-]{36}';

function parseRoute(hash: string): Route {
  const board = new RegExp(`^#/pipelines/(${UUID})$`).exec(hash);
  if (board?.[1]) return { page: 'board', pipelineId: board[1] };
  const funnel = new RegExp(`^#/pipelines/(${UUID})/funnel$`).exec(hash);
  if (funnel?.[1]) return { page: 'funnel', pipelineId: funnel[1] };
  const deal = new RegExp(`^#/deals/(${UUID})$`).exec(hash);
  if (deal?.[1]) return { page: 'deal', dealId: deal[1] };
  return { page: 'home' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
