/** A stage of the map's own board: what reports show instead of the pipeline's stages. */
export interface TargetStage {
  /** Lower-case slug, unique within the map (`qualify`, `closing`): reports name the stage by it. */
  readonly targetId: string;
  readonly name: string;
}

/** What one stage of the pipeline (live, renamed or removed) counts as: a target's id, or ignored. */
export const IGNORE = 'ignore';

export interface StageAssignment {
  readonly stageId: string;
  /** A `targetId` of the map, or `'ignore'`: deals in this stage count in no target stage. */
  readonly countsAs: string;
}

/** The map's content: ordered targets and, for every stage the pipeline ever had, what it counts as. */
export interface StageMapContent {
  readonly name: string;
  /** In board order. */
  readonly targets: readonly TargetStage[];
  readonly assignments: readonly StageAssignment[];
}
