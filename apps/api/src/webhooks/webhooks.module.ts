import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CommandHandling, EVENT_STORE } from '@dealstream/command-handling';
import type { Database } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import { TargetPolicy, WebhookDeliveryWorker, type WebhookConfig } from '@dealstream/webhooks';
import { DATABASE } from '../database.provider.js';
import type { ApiMetrics } from '../metrics/api-metrics.js';
import { API_METRICS } from '../metrics/metrics.tokens.js';
import { WebhooksController } from './webhooks.controller.js';
import { WEBHOOK_TARGET_POLICY, WebhooksService } from './webhooks.service.js';

const WEBHOOK_CONFIG = Symbol('WEBHOOK_CONFIG');

/**
 * Webhook routes, and the delivery worker in this process unless WEBHOOK_DELIVERY=off (several
 * instances may all run it: each subscription is claimed by one worker at a time).
 */
@Module({})
export class WebhooksModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: WebhookDeliveryWorker | undefined;

  constructor(
    @Inject(WEBHOOK_CONFIG) private readonly config: WebhookConfig,
    @Inject(WEBHOOK_TARGET_POLICY) private readonly policy: TargetPolicy,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    private readonly webhooks: WebhooksService,
  ) {}

  static with(config: WebhookConfig): DynamicModule {
    return {
      module: WebhooksModule,
      controllers: [WebhooksController],
      providers: [
        { provide: WEBHOOK_CONFIG, useValue: config },
        { provide: WEBHOOK_TARGET_POLICY, useValue: new TargetPolicy(config.allowedTargets) },
        CommandHandling,
        WebhooksService,
      ],
      exports: [WebhooksService],
    };
  }

  onApplicationBootstrap(): void {
    this.metrics.observeWebhooks(() => this.webhooks.largestBacklog());
    if (!this.config.deliveryInProcess) return;
    this.worker = new WebhookDeliveryWorker({
      db: this.database.db,
      store: this.store,
      policy: this.policy,
      ...this.config,
      onAttempt: (outcome) => this.metrics.webhookDeliveries.inc({ outcome }),
    });
    this.worker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.stop();
  }
}
