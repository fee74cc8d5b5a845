import { Module } from '@nestjs/common';
import { DEAL_COMMAND_HANDLERS } from './deal.handlers.js';
import { DealWriter } from './deal-writer.js';

/** Deal command handlers; needs EVENT_STORE from a global module. */
@Module({ providers: [DealWriter, ...DEAL_COMMAND_HANDLERS] })
export class DealsApplicationModule {}
