/*
 * Structural comparison of two state views, field by field. Plain objects are walked, so a change
 * deep inside (`qualification.bant.need.confirmed`) is named by its dotted path; arrays and scalars
 * are compared as whole values; a field present on one side only, or an object replaced by a
 * non-object (null → {…}), is one change at that path. Absent and null both read as null.
 */

export interface ChangedField {
  readonly field: string;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * The fields whose values differ between two views, in the order the fields appear.
 *
 * @example changedFields({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 } }) // [{ field: 'b.c', before: 2, after: 3 }]
 */
export function changedFields(before: unknown, after: unknown): ChangedField[] {
  const changes: ChangedField[] = [];
  collect(before, after, [], changes);
  return changes;
}

function collect(before: unknown, after: unknown, path: string[], out: ChangedField[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const key of keys) collect(before[key], after[key], [...path, key], out);
    return;
  }
  if (!deepEqual(before, after)) out.push({ field: path.join('.'), before: before ?? null, after: after ?? null });
}

/** The value at a dotted path, or undefined when a step of it is missing or not an object. */
export function valueAt(view: unknown, field: string): unknown {
  let value: unknown = view;
  for (const key of field.split('.')) {
    if (!isPlainObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** JSON-value equality: same scalars, same arrays element by element, same object fields. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => deepEqual(a[key], b[key]));
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
