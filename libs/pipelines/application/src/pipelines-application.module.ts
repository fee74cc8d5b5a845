import { Module } from '@nestjs/common';
import { PIPELINE_COMMAND_HANDLERS } from './pipeline.handlers.js';
import { CommandHandling } from '@dealstream/command-handling';

/** Pipeline command handlers; needs EVENT_STORE from a global module. */
@Module({ providers: [CommandHandling, ...PIPELINE_COMMAND_HANDLERS] })
export class PipelinesApplicationModule {}
