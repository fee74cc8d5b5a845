import { dealError } from './deal.errors.js';
import { requireStorable, TEXT_LIMITS } from './deal.validation.js';

export interface BantCriterion {
  readonly confirmed: boolean;
  readonly note?: string;
}

export interface Bant {
  readonly budget: BantCriterion;
  readonly authority: BantCriterion;
  readonly need: BantCriterion;
  readonly timeline: BantCriterion;
}

export type BantCriterionName = keyof Bant;

export const BANT_CRITERIA: readonly BantCriterionName[] = ['budget', 'authority', 'need', 'timeline'];

/**
 * Budget, authority and need are the gate. Timeline is scored but not required: buyers with a real
 * need and money often cannot name a date yet, and refusing them would lose real opportunities.
 */
export const REQUIRED_BANT_CRITERIA: readonly BantCriterionName[] = ['budget', 'authority', 'need'];

export const POINTS_PER_CRITERION = 25;

export interface BantAssessment {
  /** Required criteria not confirmed, in B-A-N order. */
  readonly unmet: BantCriterionName[];
  /** 0..100: 25 per confirmed criterion, timeline included. */
  readonly score: number;
}

/** `assessBant(bant)` → `{ unmet: ['budget'], score: 75 }` when only the budget is unconfirmed. */
export function assessBant(bant: Bant): BantAssessment {
  const unmet = REQUIRED_BANT_CRITERIA.filter((name) => !bant[name].confirmed);
  const confirmed = BANT_CRITERIA.filter((name) => bant[name].confirmed).length;
  return { unmet, score: confirmed * POINTS_PER_CRITERION };
}

/** Returns the assessment as stored: notes trimmed, empty notes dropped. */
export function requireBant(bant: Bant): Bant {
  const criteria = BANT_CRITERIA.map((name) => {
    const criterion: unknown = bant?.[name];
    if (
      typeof criterion !== 'object' ||
      criterion === null ||
      typeof (criterion as BantCriterion).confirmed !== 'boolean'
    ) {
      throw dealError('invalid-bant', `bant.${name} needs a boolean "confirmed"`, { field: `bant.${name}` });
    }
    const { confirmed, note } = criterion as BantCriterion;
    if (note !== undefined && (typeof note !== 'string' || note.length > TEXT_LIMITS.note)) {
      throw dealError('invalid-bant', `bant.${name}.note must be text up to ${TEXT_LIMITS.note} characters`, {
        field: `bant.${name}.note`,
      });
    }
    const trimmed =
      note === undefined ? undefined : requireStorable(note.trim(), 'invalid-bant', `bant.${name}.note`, 'multi-line');
    return [name, trimmed ? { confirmed, note: trimmed } : { confirmed }] as const;
  });
  return Object.fromEntries(criteria) as unknown as Bant;
}
