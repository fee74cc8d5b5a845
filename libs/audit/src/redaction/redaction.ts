import type { AuditedAggregate } from '../audited-aggregates/audited-aggregate.js';

/** Who may not see identities gets pseudonyms instead; see Pseudonymizer. */
export interface Redactor {
  pseudonym(principalId: string): string;
}

type AnyAggregate = AuditedAggregate<{ version: number }>;

/** Event data with the aggregate's identity fields (e.g. a deal's ownerId) replaced by pseudonyms. */
export function redactEventData(
  aggregate: AnyAggregate | undefined,
  type: string,
  data: object,
  redactor: Redactor,
): object {
  const fields = aggregate?.identityDataFields[type] ?? [];
  return replaceIdentities(data, fields, redactor);
}

/** A state with the aggregate's identity fields replaced by pseudonyms. */
export function redactState<State extends { version: number }>(
  aggregate: AuditedAggregate<State>,
  state: State,
  redactor: Redactor,
): State {
  return replaceIdentities(state, aggregate.identityStateFields, redactor) as State;
}

/** A diff value: pseudonymised when the field is one of the aggregate's identity fields. */
export function redactFieldValue(aggregate: AnyAggregate, field: string, value: unknown, redactor: Redactor): unknown {
  return aggregate.identityStateFields.includes(field) && typeof value === 'string' && value !== ''
    ? redactor.pseudonym(value)
    : value;
}

function replaceIdentities(object: object, fields: readonly string[], redactor: Redactor): object {
  if (fields.length === 0) return object;
  const copy: Record<string, unknown> = { ...object };
  for (const field of fields) {
    const value = copy[field];
    if (typeof value === 'string' && value !== '') copy[field] = redactor.pseudonym(value);
  }
  return copy;
}
