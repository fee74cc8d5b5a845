/** Targets a stage is measured against; both are optional because teams adopt them gradually. */
export interface StageGoal {
  /** Whole days; a deal sitting longer than this is "stalled" on the read side. */
  readonly maxDaysInStage?: number;
  /** Integer percent (0..100) of the deals entering this stage expected to reach the next one. */
  readonly targetConversion?: number;
}

export interface Stage {
  readonly stageId: string;
  readonly name: string;
  /** Integer percent (0..100) used for the weighted pipeline. */
  readonly probability: number;
  readonly goal?: StageGoal;
}

/**
 * A removed stage is remembered, not forgotten: deals and reports still point at its id, and
 * `movedTo` says where its open deals went.
 */
export interface RemovedStage {
  readonly name: string;
  readonly movedTo: string;
}
