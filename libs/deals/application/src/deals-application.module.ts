import { Module } from '@nestjs/common';
import { DEAL_COMMAND_HANDLERS } from './deal.handlers.js';
import { CommandHandling } from '@dealstream/command-handling';

/** Deal command handlers; needs EVENT_STORE from a global module. */
@Module({ providers: [CommandHandling, ...DEAL_COMMAND_HANDLERS] })
export class DealsApplicationModule {}
