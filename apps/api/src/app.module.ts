import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { Database } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import { DEFAULT_CONTENTION_POLICY, EVENT_STORE, WRITE_CONTENTION_POLICY } from '@dealstream/command-handling';
import { DealsApplicationModule } from '@dealstream/deals-application';
import { PipelinesApplicationModule } from '@dealstream/pipelines-application';
import { StageMapsApplicationModule } from '@dealstream/stage-maps-application';
import { AuditModule } from './audit/audit.module.js';
import { DEFAULT_TOKEN_POLICY } from '@dealstream/auth';
import { AUTH_OPTIONS, AuthGuard, VERIFICATION_KEY, type AuthOptions } from './auth/auth.guard.js';
import type { VerificationKey } from './auth/auth-keys.js';
import { DATABASE, DatabaseLifecycle } from './database.provider.js';
import type { WebhookConfig } from '@dealstream/webhooks';
import type { EventStreamConfig } from './config/app-config.js';
import { ConsoleSignInController } from './console/console-sign-in.controller.js';
import { SignInCodes } from './console/sign-in-codes.js';
import { DealsController } from './deals/deals.controller.js';
import { EventStreamModule } from './event-stream/event-stream.module.js';
import type { ApiMetrics } from './metrics/api-metrics.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { API_METRICS } from './metrics/metrics.tokens.js';
import { HealthController } from './health/health.controller.js';
import { READINESS_OPTIONS, type ReadinessOptions } from './health/readiness.probe.js';
import { IdempotencyKeyPurger } from './idempotency/idempotency-key.purger.js';
import { IdempotencyKeyStore } from './idempotency/idempotency-key.store.js';
import {
  IDEMPOTENCY_KEY_STORE,
  IDEMPOTENCY_OPTIONS,
  IdempotencyInterceptor,
  IdempotentWrites,
} from './idempotency/idempotency.interceptor.js';
import { ImportJobs } from './imports/import-jobs.js';
import { ImportsController } from './imports/imports.controller.js';
import { loggingModule } from './logging/logging.module.js';
import { PipelinesController } from './pipelines/pipelines.controller.js';
import { ProblemDetailsFilter } from './problem/problem-details.filter.js';
import { HttpServerReady } from './controller-kit/http-server-ready.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { StageMapsController } from './stage-maps/stage-maps.controller.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { READ_WAIT_MS, ReadModelsController } from './read-models/read-models.controller.js';

export interface AppModuleOptions {
  readonly database: Database;
  readonly eventStore: EventStore;
  readonly verificationKey: VerificationKey;
  readonly auth: AuthOptions;
  readonly logLevel: string;
  /** Where the request log goes instead of stdout (tests). */
  readonly logDestination?: { write(line: string): void };
  /** Run the projection runner inside the API (the embedded default) rather than in apps/projector. */
  readonly projectionsInProcess: boolean;
  /** The in-process runner on a worker thread (PostgreSQL + SQL event store only; see ProjectionThread). */
  readonly projectionsOnWorkerThread?: boolean;
  /** On the worker thread: least time between the starts of two reads of the global order (default 0). */
  readonly projectionBatchIntervalMs?: number;
  /** Longest a read waits for its minPosition. */
  readonly readWaitMs: number;
  readonly subscriptionSilenceMs: number;
  readonly readiness: ReadinessOptions;
  /** Time budget of a write without If-Match that keeps losing races (then 503 write-contention). */
  readonly writeContentionDeadlineMs: number;
  readonly idempotency: { readonly leaseMs: number; readonly retentionMs: number };
  readonly eventStream: EventStreamConfig;
  readonly webhooks: WebhookConfig;
  /** The Prometheus registry; `eventStore` is already metered by it (bootstrap.ts). */
  readonly metrics: ApiMetrics;
}

/** Makes the infrastructure instances injectable everywhere (they are opened before Nest starts). */
@Global()
@Module({})
class InfrastructureModule {
  static with(options: AppModuleOptions): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: DATABASE, useValue: options.database },
        { provide: EVENT_STORE, useValue: options.eventStore },
        { provide: API_METRICS, useValue: options.metrics },
        {
          provide: WRITE_CONTENTION_POLICY,
          useValue: { ...DEFAULT_CONTENTION_POLICY, deadlineMs: options.writeContentionDeadlineMs },
        },
        DatabaseLifecycle,
      ],
      exports: [DATABASE, EVENT_STORE, WRITE_CONTENTION_POLICY, API_METRICS],
    };
  }
}

/** The HTTP application, assembled around an already opened and migrated database. */
@Module({})
export class AppModule {
  static with(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggingModule(options.logLevel, options.logDestination),
        CqrsModule.forRoot(),
        InfrastructureModule.with(options),
        PipelinesApplicationModule,
        DealsApplicationModule,
        StageMapsApplicationModule,
        AuditModule,
        EventStreamModule.with(options.eventStream),
        MetricsModule,
        WebhooksModule.with(options.webhooks),
        ProjectionsModule.with(
          options.projectionsInProcess,
          options.subscriptionSilenceMs,
          options.projectionsOnWorkerThread ?? false,
          options.projectionBatchIntervalMs ?? 0,
        ),
      ],
      controllers: [
        HealthController,
        PipelinesController,
        DealsController,
        StageMapsController,
        ReadModelsController,
        ImportsController,
        ConsoleSignInController,
      ],
      providers: [
        { provide: VERIFICATION_KEY, useValue: options.verificationKey },
        { provide: AUTH_OPTIONS, useValue: options.auth },
        { provide: READ_WAIT_MS, useValue: options.readWaitMs },
        { provide: READINESS_OPTIONS, useValue: options.readiness },
        // One instance (one verified-token cache) for Nest's routes and the lean command routes.
        AuthGuard,
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: IDEMPOTENCY_KEY_STORE, useValue: new IdempotencyKeyStore(options.database.db) },
        // An identical request waits for the first as long as a write may take under contention.
        {
          provide: IDEMPOTENCY_OPTIONS,
          useValue: { ...options.idempotency, waitMs: options.writeContentionDeadlineMs },
        },
        IdempotentWrites,
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        IdempotencyKeyPurger,
        ImportJobs,
        { provide: SignInCodes, useValue: signInCodes(options) },
        HttpServerReady,
      ],
    };
  }
}

/** The console's one-time sign-in codes: offered only with a secret this instance generated (the embedded default). */
function signInCodes({ verificationKey, auth }: AppModuleOptions): SignInCodes {
  const generated = verificationKey.kind === 'secret' && verificationKey.source !== 'env';
  return new SignInCodes({
    ...(generated ? { secret: verificationKey.secret } : {}),
    maxLifetimeSeconds: (auth.tokenPolicy ?? DEFAULT_TOKEN_POLICY).maxLifetimeSeconds,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  });
}
