import 'reflect-metadata';
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { openDatabase, waitForDatabase } from '@dealstream/database';
import { openEventStore, type EventStore } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';
import { migrateWebhookSchema } from '@dealstream/webhooks';
import { AppModule } from './app.module.js';
import { serveConsole } from './console/serve-console.js';
import { resolveVerificationKey, type VerificationKey } from './auth/auth-keys.js';
import type { AppConfig } from './config/app-config.js';
import { migrateApiSchema } from './idempotency/idempotency-key.store.js';
import { NDJSON } from './imports/imports.controller.js';
import { ApiMetrics } from './metrics/api-metrics.js';
import { httpMetrics } from './metrics/http-metrics.middleware.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { ApiProblem } from './problem/api-problem.js';
import { applyHttpTimeouts, checkJsonBody, checkQueryString } from './request-limits/request-limits.js';

export interface CreatedApp {
  readonly app: NestExpressApplication;
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
  const app = await NestFactory.create<NestExpressApplication>(
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
      readWaitMs: config.readWaitMs,
      subscriptionSilenceMs: config.subscriptionSilenceMs,
      readiness: config.readiness,
      writeContentionDeadlineMs: config.writeContentionDeadlineMs,
      idempotency: config.idempotency,
      eventStream: config.eventStream,
      webhooks: config.webhooks,
    }),
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // ETags are stream revisions, set by the write and read routes; express's body-hash ETags would blur that.
  app.set('etag', false);
  applyHttpTimeouts(app.getHttpServer(), config.http);
  app.use(httpMetrics(metrics));
  app.use(checkQueryString);
  // Before the routes: the console's files answer GET/HEAD on their own paths; everything else falls through.
  const consoleServed = serveConsole(app, config.consoleDir);
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] });
  // Depth and characters are checked on the parsed body before class-transformer recurses into it.
  app.use(checkJsonBody);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      exceptionFactory: (errors) =>
        new ApiProblem(400, 'validation-failed', 'The request is invalid; see errors', { errors: flatten(errors) }),
    }),
  );
  app.enableShutdownHooks();
  setUpOpenApi(app);
  return { app, verificationKey, consoleServed };
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

function setUpOpenApi(app: NestExpressApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}

/** Writes carry JSON: any other declared body type is a 415 before parsing — but an import's NDJSON or multipart vendor export, streamed by its route. */
function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  const hasBody =
    Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (request.method === 'POST' && request.path === '/imports' && request.is([NDJSON, 'multipart/form-data'])) {
    next();
    return;
  }
  if (hasBody && !request.is(['application/json', 'application/*+json'])) {
    next(new ApiProblem(415, 'unsupported-media-type', 'Send the body as application/json'));
    return;
  }
  next();
}

function flatten(errors: ValidationError[], parent = ''): { field: string; messages: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
