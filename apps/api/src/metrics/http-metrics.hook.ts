import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from './api-metrics.js';
import { routeTemplateOf } from '../controller-kit/http-exchange.js';

/**
 * Times every request into `http_request_duration_seconds`, labelled with the route template
 * Fastify matched (`/deals/:id`, never the id itself) or `unmatched`, and the status sent — when
 * the response closes, so aborted requests and streams count too. Added first, so requests refused
 * by the limits and the guard are counted as well.
 */
export function timeRequests(fastify: FastifyInstance, metrics: ApiMetrics): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const stop = metrics.httpDuration.startTimer();
    reply.raw.once('close', () => {
      const route = request.is404 ? undefined : routeTemplateOf(request);
      stop({ method: request.method, route: route ?? 'unmatched', status: String(reply.raw.statusCode) });
    });
    done();
  });
}
