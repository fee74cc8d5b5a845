import { isCurrencyCode } from './currency.rules.js';
import { pipelineError } from './pipeline.errors.js';
import type { Stage, StageGoal } from './pipeline-stage.model.js';

/** A board wider than this is unusable and usually means stages are being used as tags. */
export const MAX_STAGES = 30;
export const MAX_NAME_LENGTH = 120;

function normalizeName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_NAME_LENGTH ? trimmed : undefined;
}

/** Names are compared case-insensitively so "Proposal" and "proposal" cannot both exist. */
export function nameKey(name: string): string {
  return name.trim().toLocaleLowerCase('en');
}

export function requirePipelineName(value: unknown): string {
  const name = normalizeName(value);
  if (name === undefined) {
    throw pipelineError('invalid-pipeline-name', `A pipeline name must be 1..${MAX_NAME_LENGTH} characters`);
  }
  return name;
}

export function requireStageName(value: unknown): string {
  const name = normalizeName(value);
  if (name === undefined) {
    throw pipelineError('invalid-stage-name', `A stage name must be 1..${MAX_NAME_LENGTH} characters`);
  }
  return name;
}

export function requireId(value: unknown, code: 'invalid-pipeline-id' | 'invalid-stage-id', field: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw pipelineError(code, `${field} must be a non-empty id`, { field });
  }
  return value;
}

export function requireCurrency(value: unknown): string {
  if (!isCurrencyCode(value)) {
    throw pipelineError('invalid-currency', 'currency must be an ISO 4217 code (3 uppercase letters)', { value });
  }
  return value;
}

function isPercent(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 100;
}

export function requireProbability(value: unknown): number {
  if (!isPercent(value)) {
    throw pipelineError('invalid-probability', 'probability must be an integer percent 0..100', { value });
  }
  return value;
}

/** Keeps only the targets that are set, so `{}` and `{ maxDaysInStage: undefined }` compare equal. */
export function requireGoal(goal: StageGoal): StageGoal {
  const { maxDaysInStage, targetConversion } = goal;
  if (maxDaysInStage !== undefined && !(Number.isSafeInteger(maxDaysInStage) && maxDaysInStage > 0)) {
    throw pipelineError('invalid-stage-goal', 'maxDaysInStage must be a positive integer', {
      field: 'maxDaysInStage',
      value: maxDaysInStage,
    });
  }
  if (targetConversion !== undefined && !isPercent(targetConversion)) {
    throw pipelineError('invalid-stage-goal', 'targetConversion must be an integer percent 0..100', {
      field: 'targetConversion',
      value: targetConversion,
    });
  }
  return {
    ...(maxDaysInStage === undefined ? {} : { maxDaysInStage }),
    ...(targetConversion === undefined ? {} : { targetConversion }),
  };
}

export function isEmptyGoal(goal: StageGoal): boolean {
  return goal.maxDaysInStage === undefined && goal.targetConversion === undefined;
}

export function sameGoal(a: StageGoal | undefined, b: StageGoal): boolean {
  return a?.maxDaysInStage === b.maxDaysInStage && a?.targetConversion === b.targetConversion;
}

/** Returns the stage as it will be stored: trimmed name, and no `goal` key when no target is set. */
export function requireStage(stage: Stage): Stage {
  const stageId = requireId(stage.stageId, 'invalid-stage-id', 'stageId');
  const name = requireStageName(stage.name);
  const probability = requireProbability(stage.probability);
  const goal = stage.goal === undefined ? {} : requireGoal(stage.goal);
  return { stageId, name, probability, ...(isEmptyGoal(goal) ? {} : { goal }) };
}
