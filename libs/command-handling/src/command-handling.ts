import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Event } from '@dealstream/decider';
import type { EventStore } from '@dealstream/event-store';
import { aggregateStream, type AggregatedStream, type StreamDecider } from './aggregate-stream.js';
import type { CommandContext } from './command-context.js';
import { EVENT_STORE } from './event-store.token.js';
import {
  WRITE_CONTENTION_POLICY,
  handleCommand,
  type ContentionPolicy,
  type DecideOnState,
  type WriteResult,
} from './handle-command.js';

/**
 * aggregateStream and handleCommand bound to the configured event store and ContentionPolicy, for
 * Nest command handlers: a handler loads what it needs and hands `handle` a decide function. It knows
 * no aggregate; everything domain-specific stays in the handler's decide function and the decider.
 */
@Injectable()
export class CommandHandling {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Optional() @Inject(WRITE_CONTENTION_POLICY) private readonly contention?: ContentionPolicy,
  ) {}

  handle<State, Evt extends Event>(
    streamId: string,
    decider: StreamDecider<State, Evt>,
    context: CommandContext,
    decide: DecideOnState<State, Evt>,
  ): Promise<WriteResult> {
    return handleCommand(this.store, streamId, decide, {
      decider,
      context,
      ...(this.contention ? { contention: this.contention } : {}),
    });
  }

  aggregate<State, Evt extends Event>(
    streamId: string,
    decider: StreamDecider<State, Evt>,
  ): Promise<AggregatedStream<State>> {
    return aggregateStream(this.store, streamId, decider);
  }
}
