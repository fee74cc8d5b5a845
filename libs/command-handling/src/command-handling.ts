import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Event } from '@dealstream/decider';
import type { EventStore } from '@dealstream/event-store';
import type { AggregatedStream, StreamDecider } from './aggregate-stream.js';
import type { CommandContext } from './command-context.js';
import { EVENT_STORE } from './event-store.token.js';
import {
  WRITE_CONTENTION_POLICY,
  handleCommand,
  type ContentionPolicy,
  type DecideOnState,
  type WriteResult,
} from './handle-command.js';
import { StreamStateCache, catchUp } from './stream-state-cache.js';

/**
 * aggregateStream and handleCommand bound to the configured event store and ContentionPolicy, for
 * Nest command handlers: a handler loads what it needs and hands `handle` a decide function. It knows
 * no aggregate; everything domain-specific stays in the handler's decide function and the decider.
 */
@Injectable()
export class CommandHandling {
  /**
   * Folded states of the streams written recently (bounded, least recently used evicted): a write
   * decides on the cached state and appends at its revision, a read of a stream reads only what is
   * new since. See handleCommand for why a stale entry is safe.
   */
  private readonly cache = new StreamStateCache();

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
      cache: this.cache,
      ...(this.contention ? { contention: this.contention } : {}),
    });
  }

  /** The stream's current state: the cached fold plus the events after it (the whole stream when not cached). */
  async aggregate<State, Evt extends Event>(
    streamId: string,
    decider: StreamDecider<State, Evt>,
  ): Promise<AggregatedStream<State>> {
    const current = await catchUp(this.store, streamId, decider, this.cache.get(streamId, decider));
    this.cache.set(streamId, decider, current);
    return { state: current.state, revision: current.revision };
  }
}
