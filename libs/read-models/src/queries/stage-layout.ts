import { sql, type RawBuilder } from 'kysely';
import { resolveLiveStageId } from '@dealstream/pipelines-domain';
import { IGNORE, type StageAssignment, type TargetStage } from '@dealstream/stage-maps-domain';
import { stageMap, type PipelineDefinition } from './pipeline-definition.query.js';
import { axisColumns, timestamp, type AsOf } from './time-axis.js';

/** A stage map as reports use it: ordered target stages and what every pipeline stage counts as. */
export interface ReportStageMap {
  readonly targets: readonly TargetStage[];
  readonly assignments: readonly StageAssignment[];
}

/** One column of a report: a live stage of the definition in force, or a target stage of a map. */
interface LayoutColumn {
  readonly stageId: string;
  readonly name: string;
  /** The stage's probability; null for a map's target (each deal is weighted by its own stage's). */
  readonly probability: number | null;
  /** The stage goal's stall limit; null for a map's target (targets have no goals: never stalled). */
  readonly maxDaysInStage: number | null;
}

/** A stage id deals may carry, the column it counts in, that column's position, and how it is weighted. */
interface LayoutRow {
  readonly stageId: string;
  readonly columnId: string;
  readonly position: number;
  readonly probability: number;
  readonly maxDays: number | null;
}

/**
 * The columns a report is computed in and the `def` table its SQL joins deals' stage ids against.
 * Without a map: the live stages of the definition in force (removed stages count under the stage that
 * received their deals). With a map: its target stages; a stage assigned `ignore`, or one the map does
 * not know (added after the map was last changed), counts in no column.
 */
export interface StageLayout {
  readonly columns: readonly LayoutColumn[];
  readonly rows: readonly LayoutRow[];
  readonly mapped: boolean;
}

export function stageLayout(definition: PipelineDefinition, map?: ReportStageMap): StageLayout {
  if (!map) {
    return {
      mapped: false,
      columns: definition.stages.map((stage) => ({
        stageId: stage.stageId,
        name: stage.name,
        probability: stage.probability,
        maxDaysInStage: stage.goal?.maxDaysInStage ?? null,
      })),
      rows: stageMap(definition).map((r) => ({
        stageId: r.stageId,
        columnId: r.liveStageId,
        position: r.position,
        probability: r.probability,
        maxDays: r.maxDays,
      })),
    };
  }
  const positions = new Map(map.targets.map((target, position) => [target.targetId, position]));
  const probabilities = new Map(definition.stages.map((stage) => [stage.stageId, stage.probability]));
  return {
    mapped: true,
    columns: map.targets.map((target) => ({
      stageId: target.targetId,
      name: target.name,
      probability: null,
      maxDaysInStage: null,
    })),
    rows: map.assignments.flatMap((assignment) => {
      const position = positions.get(assignment.countsAs);
      if (assignment.countsAs === IGNORE || position === undefined) return [];
      // A deal keeps its own stage's probability (through the movedTo chain for removed stages), so
      // weighted values and the forecast do not change with the map.
      const live = resolveLiveStageId(definition, assignment.stageId);
      const probability = (live === undefined ? undefined : probabilities.get(live)) ?? 0;
      return [{ stageId: assignment.stageId, columnId: assignment.countsAs, position, probability, maxDays: null }];
    }),
  };
}

/**
 * The layout as a SQL VALUES list `<alias>(stage_id, live_stage_id, position, probability, max_days)`;
 * `live_stage_id` is the column's id (text: a map's target ids are slugs).
 */
export function layoutSql(layout: StageLayout, alias = 'def'): RawBuilder<unknown> {
  // Raw: a VALUES list with a column alias list, which the builder cannot express.
  return sql`(values ${sql.join(
    layout.rows.map(
      (r) =>
        sql`(${r.stageId}::uuid, ${r.columnId}::text, ${r.position}::int, ${r.probability}::int, ${r.maxDays}::int)`,
    ),
  )}) as ${sql.id(alias)}(stage_id, live_stage_id, position, probability, max_days)`;
}

/**
 * When the open deal `o` entered the column it is in at the instant (`def` its row): its
 * `stage_entered_at` without a map; with one, the latest creation, reopen or move *from another
 * column* (or from an ignored stage) by the instant — moving within a merged pair keeps the clock.
 */
export function columnEnteredAt(layout: StageLayout, schema: string, asOf: AsOf, now: Date): RawBuilder<unknown> {
  if (!layout.mapped) return sql`o.stage_entered_at`;
  const { transitionAt } = axisColumns(asOf.axis);
  const instant = timestamp(asOf.at ?? now);
  return sql`coalesce((
      select max(t.at) from ${sql.id(schema)}.stage_transitions t left join ${layoutSql(layout, 'df')} on df.stage_id = t.from_stage_id
      where t.deal_id = o.deal_id and t.${transitionAt} <= ${instant}
        and (t.kind <> 'moved' or df.live_stage_id is distinct from def.live_stage_id)
    ), o.stage_entered_at)`;
}
