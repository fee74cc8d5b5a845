import { Module } from '@nestjs/common';
import { CommandHandling } from '@dealstream/command-handling';
import { STAGE_MAP_COMMAND_HANDLERS } from './stage-map.handlers.js';
import { StageMapReader } from './stage-map.reader.js';

/** Stage map command handlers and the reader reports resolve `stageMap=<id>` with; needs EVENT_STORE from a global module. */
@Module({ providers: [CommandHandling, StageMapReader, ...STAGE_MAP_COMMAND_HANDLERS], exports: [StageMapReader] })
export class StageMapsApplicationModule {}
