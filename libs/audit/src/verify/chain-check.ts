import { hashEvent, type HashedEventContent } from '@dealstream/event-store';

/**
 * Why a stream's chain is broken, at the first revision where it is:
 * - `hash-mismatch`: the stored hash is not the hash of the stored content (content changed);
 * - `broken-link`: `previous_hash` is not the predecessor's stored hash (an event replaced or re-hashed);
 * - `revision-gap`: a revision is missing (an event deleted) or out of sequence;
 * - `head-mismatch`: the stream row (`revision`, `last_hash`) does not end where the events end
 *   (the last events deleted, the head moved, or the row missing).
 */
export type ChainBreakReason = 'hash-mismatch' | 'broken-link' | 'revision-gap' | 'head-mismatch';

export interface ChainBreak {
  readonly streamId: string;
  readonly revision: bigint;
  readonly reason: ChainBreakReason;
  readonly detail: string;
}

/** The stream row: the head revision and the chain head the store moved with the last append. */
export interface StreamHead {
  readonly revision: bigint;
  readonly lastHash: string | null;
}

/** One stored event as the verifier reads it. */
export interface StoredChainEvent {
  readonly content: HashedEventContent;
  readonly hash: string;
  readonly previousHash: string | null;
  /** Why the stored row cannot be what was hashed (e.g. unparseable data), checked before hashing. */
  readonly unhashable?: string;
}

/**
 * Walks one stream's events in revision order and keeps the first break. Pure: the SQL reader feeds
 * it rows, the unit specs feed it hand-made chains.
 */
export class StreamChainCheck {
  private expectedRevision = 0n;
  private previousHash: string | null = null;
  private firstBreak: ChainBreak | undefined;

  constructor(readonly streamId: string) {}

  /** The first break found so far, if any. */
  get broken(): ChainBreak | undefined {
    return this.firstBreak;
  }

  /** Checks the next stored event; once a break is found, later events are not checked. */
  accept(event: StoredChainEvent): void {
    if (this.firstBreak) return;
    this.firstBreak = this.check(event);
    if (this.firstBreak) return;
    this.previousHash = event.hash;
    this.expectedRevision = event.content.revision + 1n;
  }

  /** Compares the end of the chain with the stream row (undefined: the row is missing). */
  finish(head: StreamHead | undefined): ChainBreak | undefined {
    if (this.firstBreak) return this.firstBreak;
    const last = this.expectedRevision - 1n;
    if (!head) return this.fail(last < 0n ? 0n : last, 'head-mismatch', 'events exist but the stream row is missing');
    if (head.revision > last) {
      return this.fail(
        last + 1n,
        'head-mismatch',
        `the stream row says revision ${head.revision}, the events end at ${last < 0n ? 'none' : last}: events were removed`,
      );
    }
    if (head.revision < last) {
      return this.fail(
        head.revision + 1n,
        'head-mismatch',
        `the stream row says revision ${head.revision}, but events go on to ${last}`,
      );
    }
    if (head.lastHash !== this.previousHash) {
      return this.fail(
        last,
        'head-mismatch',
        `streams.last_hash ${String(head.lastHash)} is not the hash of the last event (${String(this.previousHash)})`,
      );
    }
    return undefined;
  }

  private check(event: StoredChainEvent): ChainBreak | undefined {
    const { revision } = event.content;
    if (revision !== this.expectedRevision) {
      const missing = revision > this.expectedRevision;
      return this.at(
        this.expectedRevision,
        'revision-gap',
        missing
          ? `revision ${this.expectedRevision} is missing; the next stored event is ${revision}`
          : `revision ${revision} is out of sequence`,
      );
    }
    if (event.previousHash !== this.previousHash) {
      return this.at(
        revision,
        'broken-link',
        `previous_hash ${String(event.previousHash)} is not the stored hash of revision ${revision - 1n} (${String(this.previousHash)})`,
      );
    }
    if (event.unhashable) return this.at(revision, 'hash-mismatch', event.unhashable);
    let recomputed: string;
    try {
      recomputed = hashEvent(event.content, event.previousHash);
    } catch (error) {
      return this.at(
        revision,
        'hash-mismatch',
        `the stored content cannot be hashed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (recomputed !== event.hash)
      return this.at(
        revision,
        'hash-mismatch',
        `stored hash ${event.hash} is not the hash of the stored content (${recomputed})`,
      );
    return undefined;
  }

  private fail(revision: bigint, reason: ChainBreakReason, detail: string): ChainBreak {
    this.firstBreak = this.at(revision, reason, detail);
    return this.firstBreak;
  }

  private at(revision: bigint, reason: ChainBreakReason, detail: string): ChainBreak {
    return { streamId: this.streamId, revision, reason, detail };
  }
}
