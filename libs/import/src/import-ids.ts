import { v5 as uuidv5 } from 'uuid';

/** Namespace of every id an import derives (RFC 9562 v5). Never change it: re-imports would duplicate. */
const IMPORT_NAMESPACE = '8f3c2b7e-51a4-4d0e-9b6a-3c1d2e4f5a60';

const derive = (...parts: (string | number)[]) => uuidv5(parts.map(String).join('\u0000'), IMPORT_NAMESPACE);

/**
 * Ids follow from the source's own ids, scoped by the source system, so the same history imported
 * again (or an export overlapping an earlier one) names the same deals, stages and events.
 */
export const importIds = {
  pipeline: (sourceSystem: string, pipeline: string) => derive(sourceSystem, 'pipeline', pipeline),
  stage: (sourceSystem: string, pipeline: string, stage: string) => derive(sourceSystem, 'stage', pipeline, stage),
  deal: (sourceSystem: string, deal: string) => derive(sourceSystem, 'deal', deal),
  /** The n-th event one source record decided (most records decide one). */
  event: (sourceSystem: string, sourceRecordId: string, index: number) =>
    derive(sourceSystem, 'event', sourceRecordId, index),
  command: (sourceSystem: string, sourceRecordId: string) => derive(sourceSystem, 'command', sourceRecordId),
  activity: (sourceSystem: string, sourceRecordId: string) => derive(sourceSystem, 'activity', sourceRecordId),
};
