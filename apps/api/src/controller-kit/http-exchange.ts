import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/auth.decorators.js';

/*
 * The request and reply the controllers see (Fastify's), and the few questions they ask of them.
 * Streams (imports, the SSE feed) use the Node request and response under them (`.raw`), so they
 * stay independent of the framework.
 */

/** A request as the guard leaves it: `principal` once the token was verified. */
export type HttpRequest = FastifyRequest & { principal?: Principal };
export type HttpReply = FastifyReply;

/** A request header as one string (the first, when it was sent more than once), or undefined. */
export function headerOf(request: { headers: Record<string, string | string[] | undefined> }, name: string) {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The matched route's template (`/deals/:id/win`), or undefined when no route matched. */
export function routeTemplateOf(request: FastifyRequest): string | undefined {
  const url = (request.routeOptions as { url?: unknown } | undefined)?.url;
  return typeof url === 'string' ? url : undefined;
}

/** The path of the request target as sent (no query string). */
export function pathOf(request: { url: string }): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export function mediaTypeOf(contentType: string | string[] | undefined): string {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!value) return '';
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}

/** `application/json` or a `+json` structured syntax suffix (`application/merge-patch+json`). */
export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || /^application\/[^/]+\+json$/.test(mediaType);
}

/**
 * Content negotiation over the Accept header (RFC 9110 §12.5.1): the offered type the client
 * prefers (highest q, then the most specific range, then the order of its list, then the order of
 * `offered`), the first offered type without an Accept header, undefined when none is acceptable.
 */
export function preferredMediaType(accept: string | undefined, offered: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = accept.split(',').flatMap((part, index) => {
    const [range, ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) return [];
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return [{ type, subtype, q: Number.isFinite(q) ? q : 0, index }];
  });
  const ranked = offered.flatMap((candidate, offeredIndex) => {
    const [type, subtype] = candidate.split('/');
    let best: { q: number; specificity: number; index: number } | undefined;
    for (const range of ranges) {
      const specificity =
        (range.type === type ? 4 : range.type === '*' ? 0 : -1) +
        (range.subtype === subtype ? 2 : range.subtype === '*' ? 0 : -10);
      if (specificity < 0) continue;
      if (!best || specificity > best.specificity || (specificity === best.specificity && range.q > best.q))
        best = { q: range.q, specificity, index: range.index };
    }
    return best && best.q > 0 ? [{ candidate, offeredIndex, ...best }] : [];
  });
  ranked.sort(
    (a, b) => b.q - a.q || b.specificity - a.specificity || a.index - b.index || a.offeredIndex - b.offeredIndex,
  );
  return ranked[0]?.candidate;
}
