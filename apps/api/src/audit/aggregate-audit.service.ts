import { Inject, Injectable } from '@nestjs/common';
import { encodePosition, type EventStore, type RecordedEvent } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';
import {
  diffVersions,
  readHistory,
  redactFieldValue,
  redactState,
  stateAsOf,
  stateAtVersion,
  toEventView,
  type AuditedAggregate,
  type Pseudonymizer,
  type StateLookup,
} from '@dealstream/audit';
import type { Principal } from '../auth/auth.decorators.js';
import { ApiProblem } from '../problem/api-problem.js';
import { seesIdentities } from '../auth/identities.js';
import { PSEUDONYMIZER } from './audit.tokens.js';
import {
  DEFAULT_HISTORY_LIMIT,
  type DiffQueryDto,
  type HistoryQueryDto,
  type StateQueryDto,
} from './dtos/audit-queries.dto.js';
import type { HistoryPageDto, StateAtDto, StateDiffDto } from './dtos/audit-responses.dto.js';
import { parseInstant } from './dtos/query-fields.js';

type Aggregate = AuditedAggregate<{ version: number }>;

/**
 * History, state and diff of one deal or pipeline, shaped for HTTP. Reads the event store only
 * (never a read model, never a write); redacts identities for callers without identities:clear.
 */
@Injectable()
export class AggregateAuditService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PSEUDONYMIZER) private readonly pseudonymizer: Pseudonymizer,
  ) {}

  /** A page of the aggregate's events by revision. */
  async history(
    aggregate: Aggregate,
    id: string,
    query: HistoryQueryDto,
    principal: Principal,
  ): Promise<HistoryPageDto> {
    const redactor = this.redactorFor(principal);
    const page = await readHistory(this.store, aggregate, id, {
      after: query.after === undefined ? undefined : BigInt(query.after),
      limit: query.limit === undefined ? DEFAULT_HISTORY_LIMIT : Number(query.limit),
    });
    return {
      id,
      streamId: aggregate.streamName(id),
      events: page.events.map((event) => toEventView(event, redactor && { redactor, aggregate })),
      next: page.next === null ? null : page.next.toString(),
      identities: redactor ? 'pseudonymous' : 'visible',
    };
  }

  /** The state after `version` events, or as it was at `asOf` on the chosen time axis. */
  async state(aggregate: Aggregate, id: string, query: StateQueryDto, principal: Principal): Promise<StateAtDto> {
    if ((query.version === undefined) === (query.asOf === undefined)) {
      throw new ApiProblem(400, 'invalid-query', 'Give exactly one of version and asOf');
    }
    if (query.axis !== undefined && query.asOf === undefined)
      throw new ApiProblem(400, 'invalid-query', 'axis applies to asOf only');
    const axis = query.axis ?? 'occurred';
    const lookup =
      query.version !== undefined
        ? await stateAtVersion(this.store, aggregate, id, Number(query.version))
        : await stateAsOf(this.store, aggregate, id, parseInstant(query.asOf!)!, axis);
    const found = this.found(aggregate, id, lookup);
    const { state, lastEvent } = found.at;
    const redactor = this.redactorFor(principal);
    return {
      id,
      streamId: aggregate.streamName(id),
      version: state.version,
      revision: lastEvent.revision.toString(),
      occurredAt: lastEvent.metadata.occurredAt.toISOString(),
      recordedAt: lastEvent.recordedAt.toISOString(),
      position: encodePosition(lastEvent.position),
      ...(query.asOf !== undefined
        ? {
            asOf: parseInstant(query.asOf)!.toISOString(),
            axis,
            excludedBackdatedEvents: found.excludedBackdatedEvents,
          }
        : {}),
      identities: redactor ? 'pseudonymous' : 'visible',
      state: redactor ? redactState(aggregate, state, redactor) : state,
    };
  }

  /** Field-by-field changes between two versions, each with the event that last set it. */
  async diff(aggregate: Aggregate, id: string, query: DiffQueryDto, principal: Principal): Promise<StateDiffDto> {
    const [from, to] = [Number(query.from), Number(query.to)];
    if (from > to) throw new ApiProblem(400, 'invalid-query', 'from must not be greater than to');
    const diff = await diffVersions(this.store, aggregate, id, from, to);
    if (!diff.found) throw versionNotFound(aggregate, id, diff.currentVersion);
    const redactor = this.redactorFor(principal);
    const value = (field: string, v: unknown) => (redactor ? redactFieldValue(aggregate, field, v, redactor) : v);
    return {
      id,
      streamId: aggregate.streamName(id),
      fromVersion: diff.fromVersion,
      toVersion: diff.toVersion,
      eventCount: diff.eventCount,
      changes: diff.changes.map((change) => ({
        field: change.field,
        before: value(change.field, change.before),
        after: value(change.field, change.after),
        changeCount: change.changeCount,
        setBy: setter(change.setBy, redactor),
      })),
      identities: redactor ? 'pseudonymous' : 'visible',
    };
  }

  private found<State>(
    aggregate: Aggregate,
    id: string,
    lookup: StateLookup<State>,
  ): Extract<StateLookup<State>, { found: true }> {
    if (lookup.found) return lookup;
    if (lookup.reason === 'version-beyond-end') throw versionNotFound(aggregate, id, lookup.currentVersion);
    throw new ApiProblem(
      404,
      'no-state-at-instant',
      `${aggregate.kind} ${id} has no event at or before that instant; its first is at ${lookup.firstInstant.toISOString()}`,
      {
        firstEventAt: lookup.firstInstant.toISOString(),
      },
    );
  }

  private redactorFor(principal: Principal): Pseudonymizer | undefined {
    return seesIdentities(principal) ? undefined : this.pseudonymizer;
  }
}

function versionNotFound(aggregate: Aggregate, id: string, currentVersion: number): ApiProblem {
  return new ApiProblem(
    404,
    'version-not-found',
    `${aggregate.kind} ${id} has ${currentVersion} events: no version above ${currentVersion}`,
    { currentVersion },
  );
}

function setter(event: RecordedEvent, redactor: Pseudonymizer | undefined) {
  return {
    revision: event.revision.toString(),
    eventId: event.eventId,
    type: event.type,
    actorId: redactor ? redactor.pseudonym(event.metadata.actorId) : event.metadata.actorId,
    occurredAt: event.metadata.occurredAt.toISOString(),
    recordedAt: event.recordedAt.toISOString(),
  };
}
