import { textFault } from '@dealstream/decider';
import { stageMapError } from './stage-map.errors.js';
import { IGNORE, type StageAssignment, type StageMapContent, type TargetStage } from './stage-map.model.js';

export const MAX_TARGETS = 30;
/** A stage map's id is chosen like a pipeline's: any single-line text up to this long (the API sends a UUID). */
const MAX_ID_LENGTH = 200;
const MAX_NAME_LENGTH = 120;
/** Target ids are short slugs; `ignore` is reserved for "counts in no target". */
const TARGET_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** One broken rule of a map and every entry that breaks it: the 422's `details.problems[]`. */
export interface StageMapProblem {
  readonly rule:
    | 'no-targets'
    | 'too-many-targets'
    | 'invalid-target-id'
    | 'invalid-target-name'
    | 'duplicate-target-id'
    | 'duplicate-target-name'
    | 'duplicate-stage'
    | 'unknown-stage'
    | 'unknown-target'
    | 'unmapped-stage'
    | 'empty-target';
  readonly entries: readonly unknown[];
}

export function requireStageMapId(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_ID_LENGTH || textFault(value)) {
    throw stageMapError(
      'invalid-stage-map-id',
      `stageMapId must be a non-empty single-line id of at most ${MAX_ID_LENGTH} characters`,
    );
  }
  return value;
}

function normalizeName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_NAME_LENGTH && !textFault(trimmed) ? trimmed : undefined;
}

/**
 * The map's content, normalised (names trimmed), or a 422 `invalid-stage-map` whose
 * `details.problems` lists every rule broken with every offending entry — not just the first.
 *
 * Rules: 1..30 targets; target ids are slugs (`[a-z0-9][a-z0-9-]*`, not `ignore`), unique; target
 * names unique (case-insensitive); each pipeline stage assigned once; no stage the pipeline never
 * had; every stage it ever had (live, renamed, removed) assigned a target or `ignore`; `countsAs`
 * names a target of the map; every target counted by at least one stage (an empty target would
 * report zero forever — a typo, not an intention). A map is one level (stage → target), so it
 * cannot have cycles.
 */
export function requireValidContent(content: StageMapContent, pipelineStageIds: readonly string[]): StageMapContent {
  const name = normalizeName(content.name);
  if (name === undefined)
    throw stageMapError(
      'invalid-stage-map-name',
      `A stage map name must be 1..${MAX_NAME_LENGTH} characters with no control characters and no lone surrogates`,
    );
  const problems: StageMapProblem[] = [];
  const add = (rule: StageMapProblem['rule'], entries: readonly unknown[]) => {
    if (entries.length > 0) problems.push({ rule, entries });
  };
  const targets: TargetStage[] = content.targets.map((t) => ({
    targetId: t.targetId,
    name: normalizeName(t.name) ?? t.name,
  }));
  if (targets.length === 0) add('no-targets', [null]);
  if (targets.length > MAX_TARGETS) add('too-many-targets', [targets.length]);
  add(
    'invalid-target-id',
    targets
      .filter((t) => typeof t.targetId !== 'string' || !TARGET_ID.test(t.targetId) || t.targetId === IGNORE)
      .map((t) => t.targetId),
  );
  add(
    'invalid-target-name',
    content.targets.filter((t) => normalizeName(t.name) === undefined).map((t) => t.targetId),
  );
  add('duplicate-target-id', duplicates(targets.map((t) => t.targetId)));
  add('duplicate-target-name', duplicates(targets.map((t) => t.name.toLocaleLowerCase('en'))));

  const known = new Set(pipelineStageIds);
  const targetIds = new Set(targets.map((t) => t.targetId));
  add('duplicate-stage', duplicates(content.assignments.map((a) => a.stageId)));
  add(
    'unknown-stage',
    content.assignments.filter((a) => !known.has(a.stageId)).map((a) => a.stageId),
  );
  add(
    'unknown-target',
    content.assignments
      .filter((a) => a.countsAs !== IGNORE && !targetIds.has(a.countsAs))
      .map((a) => ({ stageId: a.stageId, countsAs: a.countsAs })),
  );
  const assigned = new Set(content.assignments.map((a) => a.stageId));
  add(
    'unmapped-stage',
    pipelineStageIds.filter((id) => !assigned.has(id)),
  );
  const counted = new Set(content.assignments.map((a) => a.countsAs));
  add(
    'empty-target',
    targets.filter((t) => !counted.has(t.targetId)).map((t) => t.targetId),
  );
  if (problems.length > 0) {
    throw stageMapError(
      'invalid-stage-map',
      `The stage map breaks ${problems.length} rule(s): ${problems.map((p) => p.rule).join(', ')}`,
      { problems },
    );
  }
  const assignments: StageAssignment[] = content.assignments.map((a) => ({ stageId: a.stageId, countsAs: a.countsAs }));
  return { name, targets, assignments };
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const value of values) (seen.has(value) ? twice : seen).add(value);
  return [...twice];
}
