import { Module } from '@nestjs/common';
import { PIPELINE_COMMAND_HANDLERS } from './pipeline.handlers.js';
import { PipelineWriter } from './pipeline-writer.js';

/** Pipeline command handlers; needs EVENT_STORE from a global module. */
@Module({ providers: [PipelineWriter, ...PIPELINE_COMMAND_HANDLERS] })
export class PipelinesApplicationModule {}
