import { textFault } from '@dealstream/decider';
import { isCurrencyCode } from './currency.rules.js';
import { pipelineError, type PipelineErrorCode } from './pipeline.errors.js';
import type { Stage, StageGoal } from './pipeline-stage.model.js';

/** A board wider than this is unusable and usually means stages are being used as tags. */
export const MAX_STAGES = 30;
export const MAX_NAME_LENGTH = 120;
/** Pipeline and stage ids are text: at most this long, single-line. */
const MAX_ID_LENGTH = 200;
/**
 * The longest stage goal, in days (ten years, as the HTTP API always documented). The read models
 * hold it as an `integer` and subtract it from the current instant as an interval, so it must stay
 * far below 2^31 days; an unbounded goal made every board read fail.
 */
export const MAX_DAYS_IN_STAGE = 3650;

/** Trimmed names of 1..120 characters with no control characters and no lone surrogates. */
function normalizeName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_NAME_LENGTH && textFault(trimmed) === undefined
    ? trimmed
    : undefined;
}

function nameError(code: PipelineErrorCode, what: string, value: unknown) {
  const fault = typeof value === 'string' ? textFault(value.trim()) : undefined;
  return pipelineError(
    code,
    `${what} must be 1..${MAX_NAME_LENGTH} characters with no control characters and no lone surrogates`,
    fault ? { rule: fault } : {},
  );
}

/** Names are compared case-insensitively so "Proposal" and "proposal" cannot both exist. */
export function nameKey(name: string): string {
  return name.trim().toLocaleLowerCase('en');
}

export function requirePipelineName(value: unknown): string {
  const name = normalizeName(value);
  if (name === undefined) throw nameError('invalid-pipeline-name', 'A pipeline name', value);
  return name;
}

export function requireStageName(value: unknown): string {
  const name = normalizeName(value);
  if (name === undefined) throw nameError('invalid-stage-name', 'A stage name', value);
  return name;
}

export function requireId(value: unknown, code: 'invalid-pipeline-id' | 'invalid-stage-id', field: string): string {
  if (
    typeof value !== 'string' ||
    value.trim().length === 0 ||
    value.length > MAX_ID_LENGTH ||
    textFault(value) !== undefined
  ) {
    throw pipelineError(
      code,
      `${field} must be a non-empty id of at most ${MAX_ID_LENGTH} characters, with no control characters or lone surrogates`,
      { field },
    );
  }
  return value;
}

export function requireCurrency(value: unknown): string {
  if (!isCurrencyCode(value)) {
    throw pipelineError('invalid-currency', 'currency must be an active ISO 4217 code such as EUR', { value });
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
  if (
    maxDaysInStage !== undefined &&
    !(Number.isSafeInteger(maxDaysInStage) && maxDaysInStage > 0 && maxDaysInStage <= MAX_DAYS_IN_STAGE)
  ) {
    throw pipelineError('invalid-stage-goal', `maxDaysInStage must be an integer from 1 to ${MAX_DAYS_IN_STAGE}`, {
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
