import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { Logger } from 'nestjs-pino';
import { openDatabase, waitForDatabase } from '@dealstream/database';
import { openEventStore, type EventStore } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';
import { migrateWebhookSchema } from '@dealstream/webhooks';
import { AppModule } from './app.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { apiValidationPipe } from './controller-kit/api-validation.pipe.js';
import { CompiledValidationPipe } from './controller-kit/compiled-validation.js';
import { serveLeanRoutes } from './controller-kit/lean-routes.js';
import { DealsController } from './deals/deals.controller.js';
import { IdempotentWrites } from './idempotency/idempotency.interceptor.js';
import { PipelinesController } from './pipelines/pipelines.controller.js';
import { EventFeedController } from './audit/event-feed.controller.js';
import { ReadModelsController } from './read-models/read-models.controller.js';
import { serveConsole } from './console/serve-console.js';
import { resolveVerificationKey, type VerificationKey } from './auth/auth-keys.js';
import type { AppConfig } from './config/app-config.js';
import { migrateApiSchema } from './idempotency/idempotency-key.store.js';
import { isJsonMediaType, mediaTypeOf, pathOf } from './controller-kit/http-exchange.js';
import { correlationIdOf } from './logging/correlation-id.js';
import { REQUEST_LOGGER, logRequests } from './logging/logging.module.js';
import { ApiMetrics } from './metrics/api-metrics.js';
import { timeRequests } from './metrics/http-metrics.hook.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { ApiProblem } from './problem/api-problem.js';
import { ProblemDetailsFilter } from './problem/problem-details.filter.js';
import {
  answerClientError,
  applyHttpTimeouts,
  charsetFault,
  decodedBody,
  parseJsonBody,
  queryStringFault,
} from './request-limits/request-limits.js';

/** The API's Nest application: Fastify underneath (test/benchmarks/README.md, "Fastify or express"). */
export type ApiApplication = NestFastifyApplication;

export interface CreatedApp {
  readonly app: ApiApplication;
  readonly verificationKey: VerificationKey;
  /** Whether the web console (CONSOLE_DIR) is served at `/`. */
  readonly consoleServed: boolean;
}

/** Opens and migrates the database, then assembles the Nest app (not yet listening). */
export async function createApp(config: AppConfig): Promise<CreatedApp> {
  const verificationKey = await resolveVerificationKey(config);
  const log = startupLog(config.logLevel);
  const database = await openDatabase(config.database, { log });
  let eventStore: EventStore | undefined;
  try {
    // Waits for the server (refused, starting up, restarting) with backoff up to DB_STARTUP_WAIT_MS,
    // logging why; the migrations are part of the wait, as they fail the same way mid-restart.
    await waitForDatabase(database, {
      timeoutMs: config.startupWaitMs,
      log,
      probe: async () => {
        if (!eventStore) ({ store: eventStore } = await openEventStore(database.db, config.env));
        await ensureReadModelSchema(database.db);
        await migrateApiSchema(database.db);
        await migrateWebhookSchema(database.db);
      },
    });
  } catch (error) {
    await eventStore?.close();
    await database.close();
    throw error;
  }
  // One registry per app (tests start several in one process): appends are measured at the store.
  const metrics = new ApiMetrics();
  const adapter = new FastifyAdapter({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    // The correlation id (X-Correlation-Id, traceparent or new) is the request's id: problems and events carry it.
    requestIdHeader: false,
    genReqId: correlationIdOf,
    clientErrorHandler: answerClientError,
    // The router's own refusals (a path it cannot percent-decode) are problems too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      new ProblemDetailsFilter().answer(error, request, reply),
    routerOptions: {
      // As express had it: `/deals/` is `/deals`; a long path parameter reaches its route (and its 400), not a 404.
      ignoreTrailingSlash: true,
      maxParamLength: 2048,
    },
  });
  const app = await NestFactory.create<ApiApplication>(
    AppModule.with({
      database,
      eventStore: metrics.meter(eventStore!),
      metrics,
      verificationKey,
      auth: {
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        tokenPolicy: config.tokenPolicy,
        ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
      },
      logLevel: config.logLevel,
      ...(config.logDestination ? { logDestination: config.logDestination } : {}),
      projectionsInProcess: config.projectionsInProcess,
      // A worker thread cannot share an embedded PGlite, and EventStoreDB is followed by a subscription here.
      projectionsOnWorkerThread:
        config.projectionThread === 'worker' &&
        config.database.kind === 'postgres' &&
        !config.env.EVENTSTORE_CONNECTION_STRING,
      projectionBatchIntervalMs: config.projectionBatchIntervalMs,
      readWaitMs: config.readWaitMs,
      subscriptionSilenceMs: config.subscriptionSilenceMs,
      readiness: config.readiness,
      writeContentionDeadlineMs: config.writeContentionDeadlineMs,
      idempotency: config.idempotency,
      eventStream: config.eventStream,
      webhooks: config.webhooks,
    }),
    adapter,
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  // Fastify sends no X-Powered-By and no ETag of its own: ETags are stream revisions, set by the routes.
  applyHttpTimeouts(app.getHttpServer(), config.http);
  // The request log and the correlation id first (before the limits, whose refusals it logs too).
  logRequests(fastify, app.get(REQUEST_LOGGER));
  // Then timing, so requests refused by the limits and the guard are counted too.
  timeRequests(fastify, metrics);
  fastify.addHook('onRequest', (request, _reply, done) =>
    done(queryStringFault(request.url) ?? bodyTypeFault(request)),
  );
  acceptBodies(fastify);
  // The console's files answer GET/HEAD on their own paths; everything else is the API's.
  const consoleServed = serveConsole(app, config.consoleDir);
  // The ValidationPipe, with its fast path for flat bodies and queries (controller-kit/compiled-validation.ts).
  const validation = new CompiledValidationPipe(apiValidationPipe());
  app.useGlobalPipes(validation);
  // The command routes, the event feed and the deal read skip Nest's per-request layers
  // (controller-kit/lean-routes.ts). GET /deals/:id is what a client reads after its write (and the
  // projection lag's probe): under load its way through Nest's router was most of that read's time.
  serveLeanRoutes(
    fastify,
    [
      ...[DealsController, PipelinesController, EventFeedController].map((type) => ({
        type,
        instance: app.get<object>(type),
      })),
      { type: ReadModelsController, instance: app.get<object>(ReadModelsController), methods: ['deal'] },
    ],
    {
      guard: app.get(AuthGuard),
      idempotency: app.get(IdempotentWrites),
      validation,
      problems: new ProblemDetailsFilter(),
      requireNonEmptyParams: (url, handler) =>
        (adapter as unknown as NestParamCheck).requireNonEmptyParams(url, handler),
    },
  );
  app.enableShutdownHooks();
  setUpOpenApi(app);
  return { app, verificationKey, consoleServed };
}

/**
 * The bodies the API reads: JSON (`application/json`, `application/*+json`), UTF-8, possibly gzip,
 * deflate or br encoded, at most BODY_LIMIT_BYTES once decoded, parsed strictly (an object or an
 * array) and checked for depth and characters before class-transformer recurses into it. Any other
 * body is left unread for its route: only `POST /imports` takes one (it reads the Node request).
 */
function acceptBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    try {
      done(
        null,
        isJsonMediaType(mediaTypeOf(request.headers['content-type'])) ? decodedBody(request.raw, payload) : payload,
      );
    } catch (error) {
      done(error as Error, payload);
    }
  });
  const json = (
    _request: FastifyRequest,
    body: string | Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => {
    try {
      done(null, parseJsonBody(body.toString()));
    } catch (error) {
      done(error as Error, undefined);
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  fastify.addContentTypeParser(/^application\/[^/;\s]+\+json$/i, { parseAs: 'string' }, json);
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}

/**
 * JSON lines for what happens before Nest's logger exists (waiting for the database) and for the
 * database layer's own events afterwards (a connection lost, LISTEN re-established).
 */
function startupLog(level: string): (entry: Record<string, unknown>) => void {
  if (level === 'silent') return () => {};
  return (entry) =>
    process.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), service: 'api', level: 'info', ...entry })}\n`,
    );
}

function setUpOpenApi(app: ApiApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}

/**
 * Writes carry UTF-8 JSON: any other declared body type is a 415 before the body is read — but
 * `POST /imports`, whose route streams its body and checks its media type itself.
 */
function bodyTypeFault(request: FastifyRequest): ApiProblem | undefined {
  const hasBody =
    Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody || (request.method === 'POST' && pathOf(request) === '/imports')) return undefined;
  if (!isJsonMediaType(mediaTypeOf(request.headers['content-type'])))
    return new ApiProblem(415, 'unsupported-media-type', 'Send the body as application/json');
  return charsetFault(request.headers['content-type']);
}

/** FastifyAdapter's (untyped) wrapper answering 404 for an empty path parameter. */
interface NestParamCheck {
  requireNonEmptyParams(url: string, handler: RouteHandlerMethod): RouteHandlerMethod;
}
