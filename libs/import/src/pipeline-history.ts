import { domainEventOf, type EventStore, type RecordedEvent } from '@dealstream/event-store';
import {
  initialPipelineState,
  pipelineDecider,
  pipelineStreamName,
  toPipelineSnapshot,
  type PipelineEvent,
  type PipelineSnapshot,
  type PipelineState,
} from '@dealstream/pipelines-domain';

/** A pipeline as the worker needs it to decide deals (PipelineHistory.toTransfer / fromTransfer). */
export interface PipelineTransfer {
  readonly sourceId: string;
  readonly pipelineId: string;
  readonly checkpoints: readonly { readonly at: number; readonly snapshot: PipelineSnapshot }[];
  readonly stageIds: readonly string[];
}

/**
 * A pipeline's definition through time: the snapshot in force after each of its events, so a deal
 * change is decided against the board as it stood at the change's instant (as a live command is).
 */
export class PipelineHistory {
  private readonly checkpoints: { at: number; snapshot: PipelineSnapshot }[] = [];
  /** Every stage id the pipeline ever had (live or removed). */
  readonly stageIds = new Set<string>();

  constructor(
    readonly sourceId: string,
    readonly pipelineId: string,
  ) {}

  /** Folds events in stream order with their business times. */
  static fromEvents(
    sourceId: string,
    pipelineId: string,
    events: readonly { event: PipelineEvent; occurredAt: Date }[],
  ): PipelineHistory {
    const history = new PipelineHistory(sourceId, pipelineId);
    let state: PipelineState = initialPipelineState();
    for (const { event, occurredAt } of events) {
      state = pipelineDecider.evolve(state, event);
      for (const stage of state.stages) history.stageIds.add(stage.stageId);
      history.checkpoints.push({ at: occurredAt.getTime(), snapshot: toPipelineSnapshot(state) });
    }
    return history;
  }

  /** What the import worker needs to decide deals against this pipeline (structured-cloneable). */
  toTransfer(): PipelineTransfer {
    return {
      sourceId: this.sourceId,
      pipelineId: this.pipelineId,
      checkpoints: this.checkpoints,
      stageIds: [...this.stageIds],
    };
  }

  static fromTransfer(transfer: PipelineTransfer): PipelineHistory {
    const history = new PipelineHistory(transfer.sourceId, transfer.pipelineId);
    history.checkpoints.push(...transfer.checkpoints);
    for (const stageId of transfer.stageIds) history.stageIds.add(stageId);
    return history;
  }

  /** A pipeline an earlier import wrote (this import names it but does not define it). */
  static async load(store: EventStore, sourceId: string, pipelineId: string): Promise<PipelineHistory | undefined> {
    const events = await store.readStream<PipelineEvent>(pipelineStreamName(pipelineId));
    if (events.length === 0) return undefined;
    return PipelineHistory.fromEvents(
      sourceId,
      pipelineId,
      events.map((event: RecordedEvent<PipelineEvent>) => ({
        event: domainEventOf(event),
        occurredAt: event.metadata.occurredAt,
      })),
    );
  }

  /**
   * The definition in force at `at` (the last event at or before it; events at the same instant apply
   * in stream order). Undefined before the pipeline was defined. Business time may run backwards in a
   * stream (a correction), so this is the latest *in stream order* among the events not after `at`.
   */
  at(at: Date | number): PipelineSnapshot | undefined {
    const time = typeof at === 'number' ? at : at.getTime();
    let found: PipelineSnapshot | undefined;
    for (const checkpoint of this.checkpoints) if (checkpoint.at <= time) found = checkpoint.snapshot;
    return found;
  }
}
