import { Module } from '@nestjs/common';
import type { Database } from '@dealstream/database';
import { Pseudonymizer, loadPseudonymKey } from '@dealstream/audit';
import { DATABASE } from '../database.provider.js';
import { AggregateAuditService } from './aggregate-audit.service.js';
import { AuditVerifyController } from './audit-verify.controller.js';
import { PSEUDONYMIZER } from './audit.tokens.js';
import { DealAuditController, PipelineAuditController } from './aggregate-audit.controller.js';
import { EventFeedController } from './event-feed.controller.js';

/**
 * The audit routes: deal and pipeline history/state/diff, the global event feed, hash-chain
 * verification. Needs the global DATABASE and EVENT_STORE providers. The pseudonym key is read (and
 * created once) when the module starts, so answering a request never writes.
 */
@Module({
  controllers: [DealAuditController, PipelineAuditController, EventFeedController, AuditVerifyController],
  providers: [
    {
      provide: PSEUDONYMIZER,
      inject: [DATABASE],
      useFactory: async (database: Database) => new Pseudonymizer(await loadPseudonymKey(database.db)),
    },
    AggregateAuditService,
  ],
  // The read-model routes show deal owners too: the same pseudonyms there as here.
  exports: [PSEUDONYMIZER],
})
export class AuditModule {}
