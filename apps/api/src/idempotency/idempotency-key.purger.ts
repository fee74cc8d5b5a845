import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { IDEMPOTENCY_KEY_STORE, IDEMPOTENCY_OPTIONS, type IdempotencyOptions } from './idempotency.interceptor.js';
import type { IdempotencyKeyStore } from './idempotency-key.store.js';

/** Once an hour (and at start), deletes idempotency keys older than the retention. */
@Injectable()
export class IdempotencyKeyPurger implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Idempotency');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    @Inject(IDEMPOTENCY_KEY_STORE) private readonly store: IdempotencyKeyStore,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.purge();
    this.timer = setInterval(
      () => {
        this.running = this.purge();
      },
      60 * 60 * 1000,
    );
    this.timer.unref();
  }

  /** Before the database closes: no purge may be left running against it. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async purge(): Promise<void> {
    try {
      const purged = await this.store.purge(this.options.retentionMs);
      if (purged > 0) this.logger.log(`purged ${purged} idempotency keys older than ${this.options.retentionMs} ms`);
    } catch (error) {
      this.logger.warn(`idempotency key purge failed: ${String(error)}`);
    }
  }
}
