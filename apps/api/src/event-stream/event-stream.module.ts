import { Module, type DynamicModule } from '@nestjs/common';
import type { EventStreamConfig } from '../config/app-config.js';
import { EventStreamController } from './event-stream.controller.js';
import { EVENT_STREAM_CONFIG, EventStreamService } from './event-stream.service.js';
import { EventsNotifier } from './events-notifier.js';

/** `GET /events/stream` (Server-Sent Events). Needs the global DATABASE and EVENT_STORE providers. */
@Module({})
export class EventStreamModule {
  static with(config: EventStreamConfig): DynamicModule {
    return {
      module: EventStreamModule,
      controllers: [EventStreamController],
      providers: [{ provide: EVENT_STREAM_CONFIG, useValue: config }, EventsNotifier, EventStreamService],
      exports: [EventStreamService],
    };
  }
}
